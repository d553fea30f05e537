import { NodeChild } from '../../test/support/process-harness';
import { trackChild } from './processes';

export interface NodeProcessOptions {
  script: string;
  env: Record<string, string>;
  /** stdout and stderr go here (appended). */
  logFile: string;
  /** When set, the child writes a V8 CPU profile into this directory on a clean exit. */
  cpuProfDir?: string;
  label: string;
}

/** Node options that write a V8 CPU profile into `dir` on a clean exit. */
export function cpuProfArgs(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/**
 * A node child of the bench (the bare baseline; the service is the kit's `ServiceProcess`):
 * production mode, output to a log file, RSS sampled, stopped with the bench on exit or Ctrl-C.
 */
export function startNodeProcess(options: NodeProcessOptions): NodeChild {
  const child = new NodeChild({
    name: options.label,
    script: options.script,
    env: { NODE_ENV: 'production', ...options.env },
    logFile: options.logFile,
    nodeArgs: cpuProfArgs(options.cpuProfDir),
    stopTimeoutMs: 30_000,
  });
  trackChild(child.child);
  return child;
}
