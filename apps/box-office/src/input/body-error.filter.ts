import {
  BadRequestException,
  Catch,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
  type ArgumentsHost,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { MAX_BODY_BYTES } from './json-body.js';

/**
 * Rewords the JSON body parser's errors so that they, like validation errors, say what is
 * wrong with which part of the request. Every other error gets Nest's usual answer.
 */
@Catch(HttpException)
export class BodyErrorFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    switch ((exception.cause as { type?: string } | undefined)?.type) {
      case 'entity.parse.failed':
        return super.catch(
          new BadRequestException(
            `body is not valid JSON: ${exception.message}`,
          ),
          host,
        );
      case 'entity.too.large':
        return super.catch(
          new PayloadTooLargeException(
            `body is larger than the limit of ${MAX_BODY_BYTES} bytes`,
          ),
          host,
        );
      case 'entity.too.deep':
        return super.catch(new BadRequestException(exception.message), host);
      case 'charset.unsupported':
        return super.catch(
          new UnsupportedMediaTypeException(exception.message),
          host,
        );
      default:
        return super.catch(exception, host);
    }
  }
}
