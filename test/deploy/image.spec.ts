import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
import { EnvironmentVariables } from '../../src/config/env.schema';
import { CHART, ROOT } from './chart-render';

/**
 * The container image, read statically (no Docker engine is needed): the Dockerfile, the build
 * context's .dockerignore, and what the production image ships: node, tini, dist/ without the
 * demo programs, and the production dependencies only.
 */

type Json = Record<string, unknown>;

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

interface Step {
  op: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function dockerInstructions(text: string): Step[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The stages by name, each with its base and its steps. */
function stagesOf(steps: Step[]): Map<string, { from: string; steps: Step[] }> {
  const stages = new Map<string, { from: string; steps: Step[] }>();
  let current: { from: string; steps: Step[] } | undefined;
  for (const step of steps) {
    if (step.op === 'FROM') {
      const [from, , name] = step.args.split(/\s+/);
      current = { from, steps: [] };
      stages.set(name, current);
    } else {
      current?.steps.push(step);
    }
  }
  return stages;
}

/** .dockerignore semantics: last matching pattern wins; `!` re-includes. */
function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    const regex = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]]/g, '\\$&')
          .replace(/\*\*\/?/g, '%GLOBSTAR%')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          .replace(/%GLOBSTAR%/g, '(.*/)?') +
        '(/.*)?$',
    );
    if (regex.test(path)) {
      ignored = !negate;
    }
  }
  return ignored;
}

/** Module specifiers a file needs at run time: type-only imports and exports left out. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isImportDeclaration(node) &&
      !node.importClause?.isTypeOnly &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      !node.isTypeOnly &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolveLocal(from: string, specifier: string): string {
  const base = join(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) {
      return candidate;
    }
  }
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${specifier}`);
}

/** The files and packages an entry point reaches at run time. */
function closure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) {
      continue;
    }
    files.add(file);
    if (!file.endsWith('.ts')) {
      continue;
    }
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        pending.push(resolveLocal(file, specifier));
      } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
      }
    }
  }
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), packages: [...packages].sort() };
}

const text = read(join(ROOT, 'Dockerfile'));
const steps = dockerInstructions(text);
const stages = stagesOf(steps);
const args = new Map(
  steps.filter((s) => s.op === 'ARG').map((s) => s.args.split('=') as [string, string | undefined]),
);
const pkgJson = JSON.parse(read(join(ROOT, 'package.json'))) as {
  license: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const values = parse(read(join(CHART, 'values.yaml'))) as Json;
const schemaDefaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
const stage = (name: string): { from: string; steps: Step[] } => {
  const found = stages.get(name);
  if (!found) {
    throw new Error(`the Dockerfile has no stage ${name}`);
  }
  return found;
};
const copies = (name: string): string[] =>
  stage(name)
    .steps.filter((s) => s.op === 'COPY')
    .map((s) => s.args);
/** The stage `docker build .` produces: the last one, and whatever it is built from. */
const defaultTarget = [...stages.keys()].pop()!;
const production = stage(defaultTarget).from;

describe('Dockerfile', () => {
  it('is multi-stage, every base pinned by tag or digest, never latest', () => {
    expect(stages.size).toBeGreaterThanOrEqual(5);
    for (const [name, { from }] of stages) {
      const ref = from.replace(/^\$\{(\w+)\}$/, (_m, arg: string) => args.get(arg) ?? '');
      if (stages.has(ref) || ref === 'scratch' || /^tini-\$\{TARGETARCH\}$/.test(ref)) {
        continue;
      }
      expect({ name, ref }).toEqual({
        name,
        ref: expect.stringMatching(/^[\w./-]+(:[\w.-]+)(@sha256:[a-f0-9]{64})?$/) as unknown,
      });
      expect(ref).not.toMatch(/:latest\b/);
    }
    expect(text).not.toMatch(/:latest\b/);
  });

  it('stays on the Node major CI tests, on the Debian release of the runtime base', () => {
    const nodeImage = args.get('NODE_IMAGE')!;
    expect(nodeImage).toMatch(/^node:20\.\d+-bookworm-slim$/);
    // The code is typed against the same major's API.
    expect(pkgJson.devDependencies['@types/node']).toMatch(/^\^20\./);
    // node is copied onto RUNTIME_BASE_IMAGE: both must be the same Debian release (glibc).
    const codename = /-(\w+)-slim$/.exec(nodeImage)![1];
    expect(args.get('RUNTIME_BASE_IMAGE')).toBe(`debian:${codename}-slim`);
  });

  it('builds the default target as the production image', () => {
    expect(defaultTarget).toBe('runtime');
    expect(stage('runtime').steps).toEqual([]);
    expect(stage(production).from).toBe('${RUNTIME_BASE_IMAGE}');
  });

  it('ships node without npm, npx, corepack or yarn', () => {
    const fromNode = copies(production).filter((c) => c.startsWith('--from=node '));
    expect(fromNode).toEqual(['--from=node /usr/local/bin/node /usr/local/bin/node']);
    expect(stage('node').from).toBe('${NODE_IMAGE}');
    expect(stage('node').steps).toEqual([]);
    const runtimeText = stage(production)
      .steps.map((s) => s.args)
      .join('\n');
    expect(runtimeText).not.toMatch(/\b(npm|npx|corepack|yarn)\b/);
  });

  it('ships the compiled app without the simulator and the demo receiver, and production dependencies only', () => {
    expect(copies(production)).toEqual(
      expect.arrayContaining([
        'package.json ./',
        '--from=prod-deps /app/node_modules ./node_modules',
        '--from=app /app/dist ./dist',
      ]),
    );
    expect(stage('app').from).toBe('build');
    expect(stage('app').steps).toEqual([{ op: 'RUN', args: 'rm -rf dist/simulator dist/demo' }]);
    const installs = steps.filter(
      (s) => s.op === 'RUN' && /\bnpm (ci|install|prune)\b/.test(s.args),
    );
    expect(stage('prod-deps').steps.map((s) => s.args)).toContainEqual(
      expect.stringMatching(/npm ci --omit=dev\b/),
    );
    expect(installs.every((s) => !/\bnpm install\b/.test(s.args))).toBe(true);
  });

  it('main.ts reaches neither the demo programs nor a dev dependency', () => {
    const { files, packages } = closure(join(ROOT, 'src', 'main.ts'));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => /^src\/(simulator|demo)\//.test(f))).toEqual([]);
    expect(files.filter((f) => !f.startsWith('src/') && f !== 'package.json')).toEqual([]);
    expect(packages.filter((p) => !(p in pkgJson.dependencies))).toEqual([]);
  });

  it('the demo image adds the simulator and the receiver, which need production dependencies only', () => {
    expect(stage('demo').from).toBe(production);
    expect(copies('demo')).toEqual([
      '--from=build /app/dist/simulator ./dist/simulator',
      '--from=build /app/dist/demo ./dist/demo',
    ]);
    for (const entry of ['src/simulator/simulator.main.ts', 'src/demo/demo-receiver.main.ts']) {
      const { packages } = closure(join(ROOT, entry));
      expect({ entry, devOnly: packages.filter((p) => !(p in pkgJson.dependencies)) }).toEqual({
        entry,
        devOnly: [],
      });
    }
  });

  it('runs tini as PID 1, from a release pinned by version and SHA-256 per architecture', () => {
    const adds = ['tini-amd64', 'tini-arm64'].map((name) => {
      expect(stage(name).from).toBe('scratch');
      const [add] = stage(name).steps;
      expect(add.op).toBe('ADD');
      return add.args;
    });
    adds.forEach((add, i) => {
      const arch = ['amd64', 'arm64'][i];
      expect(add).toMatch(
        new RegExp(
          `^--checksum=sha256:[a-f0-9]{64} --chmod=755 https://github\\.com/krallin/tini/releases/download/v\\d+\\.\\d+\\.\\d+/tini-static-${arch} /tini$`,
        ),
      );
    });
    expect(stage('tini').from).toBe('tini-${TARGETARCH}');
    expect(copies(production)).toContain('--from=tini /tini /usr/bin/tini');
    // No package from the Debian archive: a pinned revision would vanish at the next point release.
    expect(steps.some((s) => s.op === 'RUN' && /apt-get install/.test(s.args))).toBe(false);
    const last = (op: string): string => steps.filter((s) => s.op === op).pop()?.args ?? '';
    expect(JSON.parse(last('ENTRYPOINT'))).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(last('CMD'))).toEqual(['node', 'dist/main.js']);
  });

  it('runs as the non-root uid the chart expects, with NODE_ENV=production and the service port', () => {
    const users = stage(production).steps.filter((s) => s.op === 'USER');
    const user = users[users.length - 1]?.args ?? 'root';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user.split(':')[0]).toBe(String((values.podSecurityContext as Json).runAsUser));
    expect(text).toMatch(/NODE_ENV=production/);
    const expose = stage(production).steps.find((s) => s.op === 'EXPOSE');
    expect(expose?.args).toBe(String(schemaDefaults.PORT));
  });

  it('has a HEALTHCHECK on /health/live in JSON form', () => {
    const health = stage(production).steps.find((s) => s.op === 'HEALTHCHECK');
    expect(health).toBeDefined();
    const argv = JSON.parse(health!.args.slice(health!.args.indexOf('CMD ') + 4)) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/health/live');
  });

  it('carries the OCI labels, with the package licence', () => {
    const labels = stage(production)
      .steps.filter((s) => s.op === 'LABEL')
      .map((s) => s.args)
      .join(' ');
    for (const key of [
      'title',
      'description',
      'source',
      'licenses',
      'version',
      'revision',
      'created',
    ]) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain(`org.opencontainers.image.licenses="${pkgJson.license}"`);
    expect(labels).toContain('org.opencontainers.image.version="${VERSION}"');
  });
});

describe('.dockerignore', () => {
  const ignore = read(join(ROOT, '.dockerignore'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps dependencies, VCS, tests, docs and secrets out, but not the build inputs', () => {
    for (const path of [
      'node_modules',
      '.git',
      'dist',
      'test',
      'bench',
      'scripts',
      'docs',
      'coverage',
      'helm',
      '.env',
      'CHANGES.md',
      'src/config/app-config.spec.ts',
    ]) {
      expect({ path, ignored: dockerIgnored(ignore, path) }).toEqual({ path, ignored: true });
    }
    const copied = steps
      .filter((s) => s.op === 'COPY' && !s.args.includes('--from='))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const path of [...copied, 'src/main.ts']) {
      expect({ path, ignored: dockerIgnored(ignore, path) }).toEqual({ path, ignored: false });
    }
  });
});
