import type { INestApplication } from '@nestjs/common';
import {
  ApiProperty,
  ApiPropertyOptional,
  DocumentBuilder,
  SwaggerModule,
} from '@nestjs/swagger';

export const PODIUM_VERSION = '0.1.0';

/** The OpenAPI security scheme of the operator endpoints (OperatorOnly). */
export const OPERATOR_SECURITY = 'operator';

/** The body of every error answer (Nest's): no stack trace, ever. */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    description: 'What is wrong; a list when several fields are',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['qty must not be less than 1'],
  })
  message!: string | string[];

  @ApiPropertyOptional({ example: 'Bad Request' })
  error?: string;
}

export interface OpenApiOptions {
  title: string;
  description: string;
}

/** OpenAPI for every controller of the app: the UI at /docs, the JSON at /docs-json. */
export function setupOpenApi(
  app: INestApplication,
  { title, description }: OpenApiOptions,
): void {
  const config = new DocumentBuilder()
    .setTitle(title)
    .setDescription(description)
    .setVersion(PODIUM_VERSION)
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description: 'OPERATOR_USER and OPERATOR_PASSWORD',
      },
      OPERATOR_SECURITY,
    )
    .build();
  SwaggerModule.setup(
    'docs',
    app,
    () => SwaggerModule.createDocument(app, config),
    {
      jsonDocumentUrl: 'docs-json',
      yamlDocumentUrl: 'docs-yaml',
    },
  );
}
