import { ValidateBy, type ValidationOptions } from 'class-validator';

// What a name may not contain: control characters (C0 such as CR, LF and NUL; DEL; C1),
// line and paragraph separators, lone surrogates, noncharacters, and U+FFFD, the character
// invalid UTF-8 decodes to (two different broken names would otherwise become one).
const NOT_IN_NAMES =
  /[\p{Cc}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}\uFFFD]|\p{Cs}/u;

/** True when the text may be an event or customer name: data, never markup or log structure. */
export function isPlainName(value: unknown): boolean {
  return typeof value === 'string' && !NOT_IN_NAMES.test(value);
}

/** Event and customer names: text without control characters, line breaks or invalid Unicode. */
export function IsName(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isName',
      validator: {
        // A value that is not a string is for @IsString to report.
        validate: (value: unknown) =>
          typeof value !== 'string' || isPlainName(value),
        defaultMessage: (args) =>
          `${args?.property} must not contain control characters, line breaks or invalid Unicode`,
      },
    },
    options,
  );
}
