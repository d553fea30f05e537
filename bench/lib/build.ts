import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
/** Inside node_modules so the compiled files resolve the repo's packages like the sources do. */
export const BUILD_ROOT = join(REPO_ROOT, 'node_modules', '.cache', 'otb-bench');

export interface BuiltArtifacts {
  serviceMain: string;
  baselineMain: string;
}

function tsc(args: string[]): void {
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (result.status !== 0 && result.stdout) {
    // Type errors still emit JavaScript (noEmitOnError is off); show them but carry on.
    process.stderr.write(`tsc reported problems (JavaScript emitted anyway):\n${result.stdout}\n`);
  }
  if (result.error) {
    throw result.error;
  }
}

/**
 * Compiles the service (tsconfig.build.json) and the bare baseline once per run, so neither the
 * ts-node compiler's CPU nor its memory is part of what is measured.
 */
export function buildArtifacts(options: { baseline?: boolean } = {}): BuiltArtifacts {
  rmSync(BUILD_ROOT, { recursive: true, force: true });
  mkdirSync(BUILD_ROOT, { recursive: true });
  // src/version.ts reads ../package.json relative to the compiled dist/.
  copyFileSync(join(REPO_ROOT, 'package.json'), join(BUILD_ROOT, 'package.json'));
  tsc(['-p', 'tsconfig.build.json', '--outDir', join(BUILD_ROOT, 'dist'), '--sourceMap', 'false']);
  if (options.baseline !== false) {
    tsc([
      join('bench', 'baseline', 'bare-pipeline.ts'),
      '--outDir',
      join(BUILD_ROOT, 'baseline'),
      '--rootDir',
      join('bench', 'baseline'),
      '--module',
      'commonjs',
      '--target',
      'ES2022',
      '--moduleResolution',
      'node',
      '--esModuleInterop',
      '--skipLibCheck',
      '--strict',
      '--types',
      'node',
    ]);
  }
  const artifacts = {
    serviceMain: join(BUILD_ROOT, 'dist', 'main.js'),
    baselineMain: join(BUILD_ROOT, 'baseline', 'bare-pipeline.js'),
  };
  const expected = options.baseline === false ? [artifacts.serviceMain] : Object.values(artifacts);
  for (const file of expected) {
    if (!existsSync(file)) {
      throw new Error(`build did not produce ${file}`);
    }
  }
  return artifacts;
}
