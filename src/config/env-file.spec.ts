import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';
import { EnvFileError, withEnvFile } from './env-file';

describe('withEnvFile', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otb-env-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a filled .env the way .env.example is written, the environment taking precedence', async () => {
    const path = join(dir, '.env');
    await writeFile(
      path,
      [
        '# opentact-bridge configuration',
        'APP_ROLE=api',
        'ADMIN_API_KEY="file-admin-key-0123456789abcdefghijkl"',
        'OPENTACT_EMAIL=',
        '# PORT=3000',
        'LOG_LEVEL=debug',
        'MAX_SUBSCRIPTIONS=25',
        '',
      ].join('\n'),
    );
    const env = withEnvFile(path, { LOG_LEVEL: 'warn', PATH: '/bin' });
    expect(env).toMatchObject({
      APP_ROLE: 'api',
      ADMIN_API_KEY: 'file-admin-key-0123456789abcdefghijkl',
      LOG_LEVEL: 'warn',
      PATH: '/bin',
    });
    expect(env.PORT).toBeUndefined();

    const config = loadConfig(env);
    expect(config.role).toBe('api');
    expect(config.adminApiKey).toBe('file-admin-key-0123456789abcdefghijkl');
    expect(config.logLevel).toBe('warn');
    expect(config.maxSubscriptions).toBe(25);
  });

  it('leaves the environment as it is without a file', () => {
    const env = { APP_ROLE: 'worker' };
    expect(withEnvFile(join(dir, 'missing.env'), env)).toBe(env);
  });

  it('refuses a path it cannot read, naming the path', () => {
    expect(() => withEnvFile(dir, {})).toThrow(EnvFileError);
    expect(() => withEnvFile(dir, {})).toThrow(/cannot read .*: EISDIR/);
  });
});
