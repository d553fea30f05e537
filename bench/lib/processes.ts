import { type ChildProcess } from 'node:child_process';
import { errorMessage } from './util';

type Cleanup = () => Promise<void>;

const children = new Set<ChildProcess>();
const cleanups: Cleanup[] = [];
let installed = false;
let cleaning: Promise<void> | undefined;

/** Every child started by the bench is tracked so that an exit, an error or Ctrl-C stops it. */
export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Async clean-ups (servers, Redis) run in reverse order on exit, error or signal. */
export function onCleanup(cleanup: Cleanup): () => void {
  cleanups.push(cleanup);
  return () => {
    const index = cleanups.indexOf(cleanup);
    if (index >= 0) {
      cleanups.splice(index, 1);
    }
  };
}

export async function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop()!;
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`cleanup failed: ${errorMessage(error)}\n`);
      }
    }
    killAllChildren();
  })();
  await cleaning;
  cleaning = undefined;
}

function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
}

/** Installs the signal and exit handlers once; `main` returns the exit code. */
export function runMain(main: () => Promise<number>): void {
  if (!installed) {
    installed = true;
    process.on('exit', killAllChildren);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: stopping children and Redis\n`);
        void cleanupAll().finally(() => process.exit(130));
      });
    }
  }
  main()
    .then(async (code) => {
      await cleanupAll();
      process.exit(code);
    })
    .catch(async (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      await cleanupAll();
      process.exit(1);
    });
}

export { RssSampler, rssBytes } from '../../test/support/process-harness';
