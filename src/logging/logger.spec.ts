import pino from 'pino';
import { createRootLogger, serializeError } from './logger';
import { RepeatedErrorLog } from './repeated-error.log';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = createRootLogger('debug', { write: (line: string) => void out.push(line) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('drops the failed command from Redis errors (AUTH carries the password)', () => {
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['the-password'] },
      code: 'WRONGPASS',
    });
    const { logger, lines } = capture();
    logger.error({ err: error }, 'redis failed');
    const text = JSON.stringify(lines());
    expect(text).not.toContain('the-password');
    expect(lines()[0].err).toMatchObject({ message: error.message, code: 'WRONGPASS' });
    expect(serializeError('plain')).toBe('plain');
  });

  it('redacts credentials at the top level and one level down', () => {
    const { logger, lines } = capture();
    logger.info({ password: 'p1', config: { adminApiKey: 'k1', sentinelPassword: 's1' } }, 'x');
    expect(JSON.stringify(lines())).not.toMatch(/p1|k1|s1/);
  });
});

describe('RepeatedErrorLog', () => {
  it('logs an error once per interval with the count it stood for, and at once after recovery', () => {
    let now = 0;
    const { logger, lines } = capture();
    const log = new RepeatedErrorLog(logger, 'conn error', 1_000, () => now);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { command: { args: ['x'] } });
    for (let i = 0; i < 5; i++) {
      log.report('client', refused);
    }
    now = 1_000;
    log.report('client', refused);
    log.report('queue', refused);
    log.recovered('client');
    log.report('client', refused);
    const logged = lines().map((l) => ({ source: l.source, repeated: l.repeated }));
    expect(logged).toEqual([
      { source: 'client', repeated: undefined },
      { source: 'client', repeated: 4 },
      { source: 'queue', repeated: undefined },
      { source: 'client', repeated: undefined },
    ]);
    expect(lines()[0].err).toEqual({ message: 'connect ECONNREFUSED' });
  });
});
