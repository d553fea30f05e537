import type { ConnectionReport } from './api-contract.types';
import { connectionProblem } from './connection-problem';

function report(over: Partial<ConnectionReport> = {}): ConnectionReport {
  return {
    instance: 'ingest-a',
    state: 'open',
    authenticated: true,
    reconnects: 0,
    paused: false,
    reportedAt: '2026-12-08T00:00:00.000Z',
    ...over,
  };
}

describe('connectionProblem', () => {
  it('is undefined for an authenticated link whose subscriptions are fine', () => {
    expect(connectionProblem(report())).toBeUndefined();
    expect(
      connectionProblem(report({ opentactSubscriptions: { state: 'ok', failures: 0 } })),
    ).toBeUndefined();
  });

  it("names a link that is not authenticated by its last error, and ignores an old one's", () => {
    const refused = 'refused: WSS connection x@y - failed auth: jwt expired';
    expect(connectionProblem(report({ authenticated: false, lastError: refused }))).toBe(refused);
    expect(connectionProblem(report({ authenticated: true, lastError: refused }))).toBeUndefined();
    expect(connectionProblem(report({ authenticated: false }))).toBeUndefined();
  });

  it('names failing Opentact subscriptions, with or without their error, after the link error', () => {
    expect(
      connectionProblem(
        report({
          authenticated: false,
          lastError: 'connect ECONNREFUSED wss://127.0.0.1:1/',
          opentactSubscriptions: { state: 'failing', failures: 2, lastError: 'success: false' },
        }),
      ),
    ).toBe(
      'connect ECONNREFUSED wss://127.0.0.1:1/; event subscriptions failing (2 failed attempts): success: false',
    );
    expect(
      connectionProblem(report({ opentactSubscriptions: { state: 'failing', failures: 1 } })),
    ).toBe('event subscriptions failing (1 failed attempt)');
  });
});
