import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `bin` entry of package.json, as npm installs it. */
export function binPath(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  const bin = pkg.bin?.['opentact-bridge'];
  if (!bin) {
    throw new Error('package.json has no bin "opentact-bridge"');
  }
  return bin;
}

/**
 * The CLI as `npm run build` lays it out (dist/ mirrors src/ under tsconfig.build.json's
 * options), compiled file by file from the entry's import graph: a child process per command
 * then starts in a fraction of a second instead of loading the compiler each time.
 */
export class CompiledCli {
  private readonly dir = mkdtempSync(join(tmpdir(), 'otb-cli-'));

  constructor() {
    const config = ts.readConfigFile(join(ROOT, 'tsconfig.build.json'), (p) => ts.sys.readFile(p));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    const srcRoot = options.rootDir ?? join(ROOT, 'src');
    const outDir = options.outDir ?? join(ROOT, 'dist');
    const outRoot = join(this.dir, relative(ROOT, outDir));
    const entry = join(srcRoot, relative(outDir, join(ROOT, binPath()))).replace(/\.js$/, '.ts');
    const pending = [entry];
    const done = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (done.has(file)) {
        continue;
      }
      done.add(file);
      const source = readFileSync(file, 'utf8');
      const out = join(outRoot, relative(srcRoot, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(
        out,
        ts.transpileModule(source, { compilerOptions: options, fileName: file }).outputText,
      );
      for (const imported of ts.preProcessFile(source, true, false).importedFiles) {
        if (imported.fileName.startsWith('.')) {
          pending.push(`${resolve(dirname(file), imported.fileName)}.ts`);
        }
      }
    }
    // src/version.ts reads the version from the package.json beside dist/.
    copyFileSync(join(ROOT, 'package.json'), join(this.dir, 'package.json'));
  }

  get entry(): string {
    return join(this.dir, binPath());
  }

  /** Runs one command line with exactly this environment (no OPENTACT_BRIDGE_* leaks in). */
  run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolvePromise) => {
      execFile(
        process.execPath,
        [this.entry, ...args],
        {
          env: {
            PATH: process.env.PATH ?? '',
            NODE_PATH: join(ROOT, 'node_modules'),
            TZ: 'UTC',
            ...env,
          },
          timeout: 30_000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolvePromise({ code, stdout, stderr });
        },
      );
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
