import { ApiError, ProtocolError, UnreachableError, UsageError } from '../cli-errors';
import { printable } from './terminal-text';

/** What the person at the terminal reads on stderr when a command fails. */
export function formatError(error: unknown): string {
  if (error instanceof ApiError) {
    const lines = [
      error.status >= 500
        ? `error: the service failed: ${error.status} ${error.statusText}: ${error.apiMessage}`
        : `error: ${error.status} ${error.statusText}: ${error.apiMessage}`,
      ...error.fieldProblems.map((f) => `  ${f.field}: ${f.problems.join('; ')}`),
    ];
    if (error.status === 401) {
      lines.push("hint: pass the service's ADMIN_API_KEY with --key or in OPENTACT_BRIDGE_API_KEY");
    }
    return printable(lines.join('\n'));
  }
  if (error instanceof UnreachableError) {
    return printable(
      `error: ${error.message}\nhint: is the service running? Its address comes from --url or OPENTACT_BRIDGE_URL.`,
    );
  }
  if (error instanceof UsageError) {
    return printable(`error: ${error.message}\n(see --help)`);
  }
  if (error instanceof ProtocolError) {
    return printable(`error: ${error.message}`);
  }
  return printable(
    `error: unexpected failure: ${error instanceof Error ? error.message : String(error)}`,
  );
}
