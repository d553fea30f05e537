import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/** The admin API's OpenAPI document, built from the controllers' and DTOs' metadata. */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('opentact-bridge admin API')
    .setDescription(
      'Manage customer webhook subscriptions for Opentact events. Every /v1 route needs ' +
        '`Authorization: Bearer <ADMIN_API_KEY>`.',
    )
    .setVersion(version)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'This service')
    // The key is an opaque string, not a JWT: no bearerFormat (Nest's default claims JWT).
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: undefined,
      description: 'The ADMIN_API_KEY (or, for GET /v1/stream only, one of STREAM_API_KEYS)',
    })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at `/docs`, the OpenAPI JSON at `/docs-json`. Both are public: they hold no data. */
export function setupOpenApi(app: INestApplication, version: string): void {
  const document = buildOpenApiDocument(app, version);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json` });
}
