import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** Start-up refuses a `.env` it cannot read; the message names the file, never its contents. */
export class EnvFileError extends Error {
  readonly code = 'ENV_FILE_UNREADABLE';
  constructor(path: string, reason: string) {
    super(`cannot read ${path}: ${reason}`);
    this.name = 'EnvFileError';
  }
}

/**
 * The environment with the variables of a `.env` file (as .env.example describes it) added
 * underneath: a variable set in the environment wins over the file, as with `node --env-file`
 * and docker compose. No file, no change. Returns a new object; `env` is not modified.
 */
export function withEnvFile(path: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return env;
    }
    throw new EnvFileError(path, (error as NodeJS.ErrnoException).code ?? 'unreadable');
  }
  return { ...parseEnv(text), ...env };
}
