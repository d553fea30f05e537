import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/** Swagger UI at `/docs`, the OpenAPI JSON at `/docs-json`. Both are public: they hold no data. */
export function setupOpenApi(app: INestApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('opentact-bridge admin API')
    .setDescription(
      'Manage customer webhook subscriptions for Opentact events. Every /v1 route needs ' +
        '`Authorization: Bearer <ADMIN_API_KEY>`.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The ADMIN_API_KEY' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json` });
}
