import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { REPO_ROOT } from './build';
import { RssSampler, trackChild } from './processes';
import { sleep } from './util';

export interface NodeProcessOptions {
  script: string;
  env: Record<string, string>;
  /** stdout and stderr go here (appended). */
  logFile: string;
  /** When set, the child writes a V8 CPU profile into this directory on a clean exit. */
  cpuProfDir?: string;
  label: string;
}

/** A Node child process (the service or the bare baseline) with its RSS sampled. */
export class NodeProcess {
  readonly child: ChildProcess;
  readonly rss: RssSampler;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly options: NodeProcessOptions) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    const fd = openSync(options.logFile, 'a');
    const args = options.cpuProfDir
      ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir, options.script]
      : [options.script];
    this.child = trackChild(
      spawn(process.execPath, args, {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...options.env },
        stdio: ['ignore', fd, fd],
      }),
    );
    closeSync(fd);
    if (this.child.pid === undefined) {
      throw new Error(`${options.label}: spawn failed`);
    }
    this.rss = new RssSampler(this.child.pid);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.rss.stop();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * CPU time the process has used so far (user + system, ms), from /proc; 0 once it has exited.
   * Linux clock ticks are 10 ms (USER_HZ 100) on every distribution this runs on.
   */
  cpuMs(): number {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return 0;
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        sleep(timeoutMs).then(() => true),
      ]);
      if (timedOut && this.running) {
        this.child.kill('SIGKILL');
      }
    }
    return this.exited;
  }

  kill9(): void {
    if (this.running) {
      this.child.kill('SIGKILL');
    }
  }
}
