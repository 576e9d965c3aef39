import {
  BadRequestException,
  Injectable,
  type ArgumentMetadata,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

/**
 * Refuses a request body with a key that is not a field of its DTO, before the
 * ValidationPipe sees it: that pipe deletes `__proto__`, `constructor` and `prototype`
 * first, and class-transformer skips keys named like inherited methods (`toString`), so
 * `forbidNonWhitelisted` never reports those. Here every own key of the parsed JSON counts.
 * Also refuses a body that is not a JSON object.
 */
@Injectable()
export class KnownFieldsPipe implements PipeTransform {
  private readonly fields = new Map<Type, Set<string>>();

  transform(value: unknown, { type, metatype }: ArgumentMetadata): unknown {
    if (type !== 'body' || !metatype) return value;
    const fields = this.fieldsOf(metatype);
    if (fields.size === 0) return value; // not a validated DTO
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new BadRequestException(
        'body must be a JSON object (Content-Type: application/json)',
      );
    }
    const unknown = Object.keys(value).filter((key) => !fields.has(key));
    if (unknown.length > 0)
      throw new BadRequestException(
        unknown.map((key) => `property ${key} should not exist`),
      );
    return value;
  }

  /** The properties class-validator knows for the DTO: the fields the ValidationPipe whitelists. */
  private fieldsOf(metatype: Type): Set<string> {
    let fields = this.fields.get(metatype);
    if (!fields) {
      const metadata = getMetadataStorage().getTargetValidationMetadatas(
        metatype,
        '',
        true,
        false,
      );
      fields = new Set(metadata.map((m) => m.propertyName));
      this.fields.set(metatype, fields);
    }
    return fields;
  }
}
