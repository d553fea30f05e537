import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../src/app.module';
import { buildOpenApiDocument } from '../src/api/openapi';
import { loadConfig } from '../src/config/app-config';
import { SERVICE_VERSION } from '../src/version';

/**
 * The admin API's OpenAPI document, exactly what /docs-json serves, without Redis or Opentact:
 * Nest's preview mode builds the module graph and reads the controllers' metadata without
 * creating a single provider, so nothing connects anywhere.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({ APP_ROLE: 'api', ADMIN_API_KEY: 'x'.repeat(32) });
  const app = await NestFactory.create(AppModule.forRoot(config), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app, SERVICE_VERSION);
  } finally {
    await app.close();
  }
}

/** `ts-node --transpile-only scripts/openapi.ts [out.json]`: stdout without a path. */
async function main(): Promise<void> {
  const json = `${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`;
  const out = process.argv[2];
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, json);
  } else {
    process.stdout.write(json);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`openapi: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
