import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../support/harness';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Keeps the README's first command true: the demo shows signed webhooks arriving, a retry that
 * succeeds, a delivery that dies and is replayed, a summary, and leaves no key behind.
 */
describe('npm run demo', () => {
  let output = '';
  let code: number | null = null;
  // While it runs, the console it prints must answer, its bundle built from the sources.
  let consoleCheck: Promise<number[]> | undefined;

  beforeAll(async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'scripts/demo.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          // The Redis every spec uses (jest's global setup provides one), so its keys can be checked.
          REDIS_URL: TEST_REDIS_URL,
          DEMO_DURATION_MS: '10000',
          DEMO_INTERVAL_MS: '1000',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
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
    code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
  }, 60_000);

  it('plays the scenarios and every webhook arrives with a valid signature', async () => {
    expect(output).toMatch(/subscribed sub_\S+ -> \S+ for every event type/);
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
    expect(output).toMatch(/signature ok\s+sms\.inbound\s+\S+ \(recovered over REST\)/);
    expect(output).not.toMatch(/BAD SIGNATURE/);
    // The output's end says why, when the demo did not exit by itself.
    expect({ code, end: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, end: '' });
  });

  it('shows a flaky endpoint refusing a first attempt and the retry succeeding', () => {
    expect(output).toMatch(/flaky endpoint answered 503 sms\.\w+\s+\S+\s+attempt 1/);
    expect(output).toMatch(/signature ok\s+sms\.\w+\s+\S+\s+flaky endpoint, attempt 2/);
    const line = /flaky endpoint\s+(\d+) first attempt\(s\) refused with 503, (\d+) delivered/.exec(
      output,
    );
    expect(Number(line?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(line?.[2])).toBeGreaterThanOrEqual(1);
  });

  it('shows a delivery dying at an endpoint that is down, then replayed and delivered', () => {
    expect(output).toMatch(/endpoint down answered 500 account\.balance_changed/);
    expect(output).toMatch(/dead\s+\S+ account\.balance_changed after 3 attempts/);
    expect(output).toMatch(/replay\s+POST \/v1\/deliveries\/\S+\/retry accepted/);
    expect(output).toMatch(/signature ok\s+account\.balance_changed\s+\S+\s+replayed/);
    const line = /endpoint down\s+(\d+) delivery\(ies\) died, (\d+) replayed, (\d+) delivered/.exec(
      output,
    );
    const [died, replayed, delivered] = (line ?? []).slice(1).map(Number);
    expect(died).toBeGreaterThanOrEqual(1);
    expect(replayed).toBeGreaterThanOrEqual(1);
    expect(delivered).toBeGreaterThanOrEqual(1);
  });

  it('removes every Redis key it wrote', async () => {
    const prefix = /keys under (otb-demo-[0-9a-f]+):/.exec(output)?.[1];
    expect(prefix).toBeDefined();
    const removed = /cleanup\s+removed (\d+) Redis key\(s\) under (otb-demo-[0-9a-f]+):/.exec(
      output,
    );
    expect(removed?.[2]).toBe(prefix);
    // It did write some: the event log, deliveries, the queue.
    expect(Number(removed?.[1])).toBeGreaterThan(0);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        left.push(...keys);
      } while (cursor !== '0');
      expect(left).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
