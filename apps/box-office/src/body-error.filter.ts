import { BadRequestException, Catch, HttpException, PayloadTooLargeException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/**
 * Rewords the JSON body parser's errors so that they, like validation errors, say what is
 * wrong with which part of the request. Every other error gets Nest's usual answer.
 */
@Catch(HttpException)
export class BodyErrorFilter extends BaseExceptionFilter {
  constructor(
    httpAdapter: ConstructorParameters<typeof BaseExceptionFilter>[0],
    private readonly maxBodyBytes: number,
  ) {
    super(httpAdapter);
  }

  override catch(exception: HttpException, host: ArgumentsHost): void {
    const type = (exception.cause as { type?: string } | undefined)?.type;
    if (type === 'entity.parse.failed') {
      return super.catch(new BadRequestException(`body is not valid JSON: ${exception.message}`), host);
    }
    if (type === 'entity.too.large') {
      return super.catch(new PayloadTooLargeException(`body is larger than the limit of ${this.maxBodyBytes} bytes`), host);
    }
    return super.catch(exception, host);
  }
}
