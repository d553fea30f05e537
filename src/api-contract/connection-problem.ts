import type { ConnectionReport } from './api-contract.types';

/**
 * What keeps one link from bringing events: the link's own error while it is not authenticated,
 * and Opentact refusing the event subscriptions. Undefined when neither applies.
 */
export function connectionProblem(c: ConnectionReport): string | undefined {
  const problems: string[] = [];
  if (!c.authenticated && c.lastError) {
    problems.push(c.lastError);
  }
  const subscriptions = c.opentactSubscriptions;
  if (subscriptions?.state === 'failing') {
    problems.push(
      `event subscriptions failing (${subscriptions.failures} failed ${subscriptions.failures === 1 ? 'attempt' : 'attempts'})` +
        (subscriptions.lastError ? `: ${subscriptions.lastError}` : ''),
    );
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}
