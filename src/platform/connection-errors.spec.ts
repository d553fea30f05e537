import { ConnectionErrors } from './connection-errors';
import { recordingLogger } from './platform.spec-fixture';

describe('ConnectionErrors', () => {
  let nowMs: number;
  const clock = { now: () => new Date(nowMs) };
  const URL = 'wss://opentact.test/ws';

  beforeEach(() => {
    nowMs = Date.parse('2026-01-01T00:00:00.000Z');
  });

  it('keeps the last reason with its time, until a socket authenticates', () => {
    const errors = new ConnectionErrors(recordingLogger().logger, clock, URL);
    expect(errors.status()).toEqual({ lastError: undefined, lastErrorAt: undefined });
    errors.note('authentication failed: bad token');
    expect(errors.status()).toEqual({
      lastError: 'authentication failed: bad token',
      lastErrorAt: '2026-01-01T00:00:00.000Z',
    });
    errors.recovered();
    expect(errors.status()).toEqual({ lastError: undefined, lastErrorAt: undefined });
  });

  it('warns once per run of the same connect failure, with a reminder every 10 minutes', () => {
    const { logger, lines } = recordingLogger();
    const errors = new ConnectionErrors(logger, clock, URL);
    const refused = { message: 'connect ECONNREFUSED 10.0.0.1:443', code: 'ECONNREFUSED' };
    errors.connectFailed(refused);
    errors.connectFailed({ message: 'connect ECONNREFUSED 10.0.0.2:443', code: 'ECONNREFUSED' });
    expect(errors.status().lastError).toMatch(/^could not connect to wss:\/\/opentact\.test\/ws: /);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({
      msg: 'could not connect to the Opentact WSS',
      url: URL,
      source: 'wss',
    });
    nowMs += 10 * 60_000;
    errors.connectFailed(refused);
    expect(lines()).toHaveLength(2);
    expect(lines()[1]).toMatchObject({ repeated: 1 });
  });

  it('logs the first failure after a recovery at once', () => {
    const { logger, lines } = recordingLogger();
    const errors = new ConnectionErrors(logger, clock, URL);
    const refused = { message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' };
    errors.connectFailed(refused);
    errors.recovered();
    errors.connectFailed(refused);
    expect(lines()).toHaveLength(2);
  });
});
