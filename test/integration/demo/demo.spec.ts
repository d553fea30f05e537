import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Keeps the README's first command true: the demo must show signed webhooks arriving. */
describe('npm run demo', () => {
  it('plays the scenarios and every webhook arrives with a valid signature', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'scripts/demo.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DEMO_DURATION_MS: '7000',
          DEMO_INTERVAL_MS: '1000',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    // While it runs, the console it prints must answer, its bundle built from the sources.
    let consoleCheck: Promise<number[]> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^console\s+(http:\/\/\S+\/console)\s/m.exec(output)?.[1];
      if (url && !consoleCheck) {
        consoleCheck = Promise.all(
          [url, `${url}/assets/console.js`].map(async (u) => (await fetch(u)).status),
        ).catch(() => [-1]);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });

    expect(output).toMatch(/subscribed sub_/);
    expect(await consoleCheck).toEqual([200, 200]);
    const summary = /demo done: (\d+) webhook\(s\) received, (\d+) with a valid signature/.exec(
      output,
    );
    expect(summary).not.toBeNull();
    const [, received, verified] = summary!;
    expect(Number(received)).toBeGreaterThanOrEqual(5);
    expect(verified).toBe(received);
    expect(output).toMatch(/signature ok\s+call\.initiated/);
    expect(output).toMatch(/signature ok\s+sms\.(outbound|inbound)/);
    expect(output).not.toMatch(/BAD SIGNATURE/);
    expect(code).toBe(0);
  });
});
