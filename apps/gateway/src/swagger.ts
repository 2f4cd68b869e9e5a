import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI document of API v1 at /docs (UI) and /docs-json. */
export function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('X-ray body-part classifier API')
      .setDescription(
        'Submit radiographs, read predictions with confidence bands and Grad-CAM++ explanations, receive signed webhooks. ' +
          'Errors are `{ "error": { "code", "message" } }`. See docs/api.md.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key from `npx xray apikey create`' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
