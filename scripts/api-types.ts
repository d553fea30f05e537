import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import prettier from 'prettier';
import { generateOpenApiDocument } from './openapi';

/** Where the generated wire types live; the console and the CLI import their aliases from it. */
export const ADMIN_API_SCHEMA = join(
  __dirname,
  '..',
  'src',
  'api-contract',
  'api-contract.schema.ts',
);

const HEADER = `/**
 * The admin API's wire types, generated from its OpenAPI document by openapi-typescript:
 * \`npm run api:types\` rewrites this file; do not edit it by hand. A spec fails when it is stale.
 */

`;

/**
 * The file as `npm run api:types` would write it, formatted like the rest of the repository.
 * openapi-typescript runs as its CLI: its library entry loads ES modules that jest cannot.
 */
export async function generateAdminApiTypes(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'otb-api-types-'));
  try {
    await writeFile(join(dir, 'openapi.json'), JSON.stringify(await generateOpenApiDocument()));
    const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
    // Run in the temporary folder, so it does not pick up this repository's redocly.yaml.
    await promisify(execFile)(process.execPath, [cli, 'openapi.json', '--output', 'schema.ts'], {
      cwd: dir,
    });
    const generated = await readFile(join(dir, 'schema.ts'), 'utf8');
    const options = await prettier.resolveConfig(ADMIN_API_SCHEMA);
    return prettier.format(HEADER + generated, { ...options, filepath: ADMIN_API_SCHEMA });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `npm run api:types` writes the file; `npm run api:types -- --check` fails when it is stale. */
async function main(): Promise<void> {
  const generated = await generateAdminApiTypes();
  if (process.argv.includes('--check')) {
    if (readFileSync(ADMIN_API_SCHEMA, 'utf8') !== generated) {
      process.stderr.write(`${ADMIN_API_SCHEMA} is stale: run npm run api:types\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(ADMIN_API_SCHEMA, generated);
  process.stdout.write(`api types -> ${ADMIN_API_SCHEMA}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`api-types: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
