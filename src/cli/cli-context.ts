import type { Command } from 'commander';
import { SERVICE_VERSION } from '../version';
import { AdminApiClient } from './admin-api.client';
import { ExitCode } from './cli-errors';
import { TimeFormatter } from './format/time.formatter';

export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:3000';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const ENV_URL = 'OPENTACT_BRIDGE_URL';
export const ENV_KEY = 'OPENTACT_BRIDGE_API_KEY';

/** Everything the tool touches outside itself, so a test runs it in-process. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
  /** The zone times are shown in; the process's when absent. */
  timeZone?: string;
  now?: () => number;
}

/** Shorter strings are not hunted for: redacting them would mangle ordinary output. */
const MIN_REDACTED_LENGTH = 8;

/** stdout and stderr, with every known secret replaced before anything is written. */
export class CliOutput {
  private readonly secrets = new Set<string>();

  constructor(private readonly io: Pick<CliIo, 'stdout' | 'stderr'>) {}

  hide(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_REDACTED_LENGTH) {
      this.secrets.add(secret);
    }
  }

  /** One block of text and a newline. */
  out(text: string): void {
    this.writeOut(`${text}\n`);
  }

  err(text: string): void {
    this.writeErr(`${text}\n`);
  }

  /** JSON for scripts: the API's own, indented. */
  json(value: unknown): void {
    this.out(JSON.stringify(value, null, 2));
  }

  writeOut(text: string): void {
    this.io.stdout(this.redact(text));
  }

  writeErr(text: string): void {
    this.io.stderr(this.redact(text));
  }

  private redact(text: string): string {
    let safe = text;
    for (const secret of this.secrets) {
      safe = safe.split(secret).join('<redacted>');
    }
    return safe;
  }
}

interface GlobalOptions {
  url?: string;
  key?: string;
  timeout: number;
  json?: boolean;
  verbose?: boolean;
}

interface OutputOptions {
  json?: boolean;
  verbose?: boolean;
}

/** What every command needs: the client, the output, the time formatter, and the exit code. */
export class CliContext {
  exitCode: ExitCode = ExitCode.Ok;
  readonly time: TimeFormatter;
  private program?: Command;

  constructor(
    readonly io: CliIo,
    readonly output: CliOutput,
  ) {
    this.time = new TimeFormatter(io.timeZone);
    output.hide(io.env[ENV_KEY]);
  }

  attach(program: Command): void {
    this.program = program;
  }

  /** `--json` given before the command or after it. */
  wantsJson(command: Command): boolean {
    return !!(command.opts<OutputOptions>().json || this.globals().json);
  }

  client(command: Command): AdminApiClient {
    const globals = this.globals();
    const apiKey = globals.key ?? nonEmpty(this.io.env[ENV_KEY]);
    this.output.hide(apiKey);
    const verbose = !!(command.opts<OutputOptions>().verbose || globals.verbose);
    return new AdminApiClient({
      baseUrl: globals.url ?? nonEmpty(this.io.env[ENV_URL]) ?? DEFAULT_SERVICE_URL,
      apiKey,
      timeoutMs: globals.timeout,
      userAgent: `opentact-bridge-cli/${SERVICE_VERSION}`,
      fetch: this.io.fetch,
      trace: verbose ? (line) => this.output.err(line) : undefined,
    });
  }

  now(): number {
    return (this.io.now ?? Date.now)();
  }

  private globals(): GlobalOptions {
    if (!this.program) {
      throw new Error('CliContext used before the program was attached');
    }
    return this.program.opts<GlobalOptions>();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
