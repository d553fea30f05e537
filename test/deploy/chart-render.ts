import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { helmBinary } from '../../scripts/helm';

/** The chart rendered by the real helm binary (scripts/helm.ts), parsed into objects. */

export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'helm', 'opentact-bridge');
export const FULL_VALUES = join(CHART, 'ci', 'full-values.yaml');
export const RELEASE = 'otb';
export const NAMESPACE = 'bridge';
export const ROLES = ['ingest', 'worker', 'api'] as const;
export type Role = (typeof ROLES)[number];

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Values files, in order (ci/full-values.yaml for instance). */
  files?: string[];
  /** Values given last, as a values file (types are kept, unlike --set). */
  values?: Record<string, unknown>;
  /** Only these templates (`templates/ingress.yaml`). */
  showOnly?: string[];
}

function helmArgs(command: 'template' | 'lint', options: RenderOptions, dir: string): string[] {
  const args =
    command === 'template'
      ? ['template', RELEASE, CHART, '--namespace', NAMESPACE]
      : ['lint', '--strict', CHART, '--namespace', NAMESPACE];
  for (const file of options.files ?? []) {
    args.push('--values', file);
  }
  if (options.values) {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(options.values));
    args.push('--values', file);
  }
  for (const template of options.showOnly ?? []) {
    args.push('--show-only', template);
  }
  return args;
}

function runHelm(
  command: 'template' | 'lint',
  options: RenderOptions,
): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otb-chart-'));
  try {
    const result = spawnSync(helmBinary(), helmArgs(command, options, dir), {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) {
      throw result.error;
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template`; throws with helm's message when the chart refuses the values. */
export function render(options: RenderOptions = {}): KubeObject[] {
  const result = runHelm('template', options);
  if (result.status !== 0) {
    throw new Error(`helm template failed: ${result.stderr.trim()}`);
  }
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(result.stdout)) {
    if (doc.errors.length > 0) {
      throw new Error(`helm template printed invalid YAML: ${doc.errors[0].message}`);
    }
    const object = doc.toJS() as KubeObject | null;
    if (object !== null) {
      objects.push(object);
    }
  }
  return objects;
}

/** helm's error when it refuses to render these values (schema or the chart's own checks). */
export function renderError(options: RenderOptions): string {
  const result = runHelm('template', options);
  if (result.status === 0) {
    throw new Error('helm template rendered values it was expected to refuse');
  }
  return result.stderr;
}

/** `helm lint --strict`: exit status and output. */
export function lint(options: RenderOptions = {}): { status: number | null; output: string } {
  const result = runHelm('lint', options);
  return { status: result.status, output: result.stdout + result.stderr };
}

export function helmVersion(): string {
  return execFileSync(helmBinary(), ['version', '--short'], { encoding: 'utf8' }).trim();
}

/** The one object of this kind and name; throws when there is none or several. */
export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  }
  return found[0];
}

export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** `<release>-opentact-bridge`, the chart's full name for the release used here. */
export const FULLNAME = `${RELEASE}-opentact-bridge`;
