import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsEmail,
  IsIn,
  IsISO31661Alpha2,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import { ENTITY_TYPES } from '../domain/account';

// The attribute rules of docs/API.md. IsOptional lets null through: null means "none" (create) or
// "clear" (PATCH, RFC 7396). Shapes are partial; the domain completes them with nulls.
//
// Every rule carries its own message, saying what is allowed, without the attribute's name:
// account-document.ts puts the full path in front ("person.name.first must be ..."), which a rule
// cannot know (class-validator's $property is only the last segment). No rule may fall back to
// class-validator's default wording, which names neither the path nor what is allowed.

// Whole code points only: a lone surrogate is not printable (and SQLite would store it as U+FFFD).
export const PRINTABLE = /^[\x20-\x7E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;

const rule = (message: string) => ({ message });

/** A real calendar date YYYY-MM-DD (no Feb 30), not before `min`. "Not in the future" needs the clock: see account-document.ts. */
function IsCalendarDate(min: string) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isCalendarDate',
      target: target.constructor,
      propertyName: property,
      options: rule(`must be a real calendar date YYYY-MM-DD, not before ${min} and not in the future`),
      validator: { validate: (value: unknown) => isCalendarDate(value) && value >= min },
    });
}

export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** Set by the server: a client may not write it. `detail` says what to do instead. */
export function ReadOnly(detail: string) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'readOnly',
      target: target.constructor,
      propertyName: property,
      options: rule(detail),
      validator: { validate: (value: unknown) => value === undefined },
    });
}

const SET_BY_SERVER = 'is set by the server: leave it out';

/** Optional text of 1 to `max` characters. */
const Text = (max: number) => (target: object, property: string) => {
  const message = rule(`must be a string of 1 to ${max} characters`);
  IsOptional()(target, property);
  IsString(message)(target, property);
  Length(1, max, message)(target, property);
};

const Nested = (type: () => new () => object, shape: string) => (target: object, property: string) => {
  const message = rule(`must be an object ${shape}, or null`);
  IsOptional()(target, property);
  IsObject(message)(target, property);
  ValidateNested(message)(target, property);
  Type(type)(target, property);
};

/** An optional array of at most `max` objects. IsObject({ each }) too: ValidateNested alone would descend into [[{...}]] and let it through. */
const ArrayOf = (type: () => new () => object, max: number, entry: string) => (target: object, property: string) => {
  IsOptional()(target, property);
  IsArray(rule(`must be an array of at most ${max} objects ${entry}`))(target, property);
  ArrayMaxSize(max, rule(`must hold at most ${max} entries`))(target, property);
  IsObject({ each: true, message: `must hold only objects ${entry}` })(target, property);
  ValidateNested({ each: true, message: `must hold only objects ${entry}` })(target, property);
  Type(type)(target, property);
};

const COUNTRY_CODE = rule('must be an ISO 3166-1 alpha-2 country code, such as US or GB');
const oneOf = (values: readonly string[]) => rule(`must be one of ${values.join(', ')}`);

export class PersonNameDto {
  @Text(200) first?: string | null;
  @Text(200) middle?: string | null;
  @Text(200) last?: string | null;
}

export class PersonDto {
  @Nested(() => PersonNameDto, '{ first, middle, last }') name?: PersonNameDto | null;
  @IsOptional() @IsCalendarDate('1900-01-01') birth_date?: string | null;
  @IsOptional() @IsIn(['female', 'male', 'other'], oneOf(['female', 'male', 'other'])) sex?: 'female' | 'male' | 'other' | null;
}

const SHARE_COUNT = rule('must be a string of 1 to 30 digits, such as "500"');
const PERCENTAGE = rule('must be a number from 0 to 100');

export class ShareholderDto {
  @Text(200) name?: string | null;
  @IsOptional() @IsIn(ENTITY_TYPES, oneOf(ENTITY_TYPES)) shareholder_type?: 'person' | 'business' | null;
  @IsOptional() @IsCalendarDate('1900-01-01') date_of_birth?: string | null;
  @Text(50) id_type?: string | null;
  @Text(100) id_number?: string | null;
  @IsOptional() @IsString(SHARE_COUNT) @Matches(/^\d+$/, SHARE_COUNT) @MaxLength(30, SHARE_COUNT) number_of_share?: string | null;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }, PERCENTAGE) @Min(0, PERCENTAGE) @Max(100, PERCENTAGE) percentage_of_share?: number | null;
}

export class BusinessDto {
  @Text(300) legal_name?: string | null;
  @IsOptional() @IsCalendarDate('1800-01-01') registration_date?: string | null;
  @ArrayOf(() => ShareholderDto, 100, '{ name, shareholder_type, date_of_birth, id_type, id_number, number_of_share, percentage_of_share }')
  shareholders?: ShareholderDto[] | null;
}

const EMAIL = rule('must be a valid email address of at most 254 characters');
const PHONE = rule('must be a phone number in E.164 format: + and 7 to 15 digits, such as +14155550100');

export class ContactDto {
  @IsOptional() @IsString(EMAIL) @MaxLength(254, EMAIL) @IsEmail({}, EMAIL) email?: string | null;
  @IsOptional() @IsString(PHONE) @Matches(/^\+[0-9]{7,15}$/, PHONE) phone?: string | null;
}

export class AddressDto {
  @Text(200) line1?: string | null;
  @Text(200) line2?: string | null;
  @Text(200) sublocality?: string | null;
  @Text(200) locality?: string | null;
  @Text(200) administrative_area?: string | null;
  @Text(20) postal_code?: string | null;
  @IsOptional() @IsISO31661Alpha2(COUNTRY_CODE) country_code?: string | null;
}

const NUMBER = rule('must be a string of 1 to 100 characters');
const CLASS = rule('must be a lowercase token of letters, digits and _ (up to 50, starting with a letter), such as ssn, passport, national_id, tax_id or drivers_license');

export class IdentityNumberDto {
  @IsDefined(rule('is required: a string of 1 to 100 characters')) @IsString(NUMBER) @Length(1, 100, NUMBER) number!: string;
  @IsOptional() @IsISO31661Alpha2(COUNTRY_CODE) issuing_country_code?: string | null;
  @IsDefined(rule('is required: a lowercase token such as ssn or passport')) @IsString(CLASS) @Matches(/^[a-z][a-z0-9_]{0,49}$/, CLASS) class!: string;
  @ReadOnly(SET_BY_SERVER) created_at?: unknown;
  @ReadOnly(SET_BY_SERVER) updated_at?: unknown;
}

const EXTERNAL_ID = rule('must be a string of 1 to 255 printable characters (no control characters), or null');

/**
 * Everything a client may send but entity_type, whose rule differs between create and PATCH; what
 * is only read is marked. entity_type is declared in each subclass, not overridden: an inherited
 * @IsOptional would skip the subclass's @IsDefined too (class-validator merges the rules).
 */
abstract class WritableAttributesDto {
  @IsOptional() @IsString(EXTERNAL_ID) @Length(1, 255, EXTERNAL_ID) @Matches(PRINTABLE, EXTERNAL_ID) external_id?: string | null;
  @Nested(() => PersonDto, '{ name, birth_date, sex }') person?: PersonDto | null;
  @Nested(() => BusinessDto, '{ legal_name, registration_date, shareholders }') business?: BusinessDto | null;
  @Nested(() => ContactDto, '{ email, phone }') contact?: ContactDto | null;
  @Nested(() => AddressDto, '{ line1, line2, sublocality, locality, administrative_area, postal_code, country_code }') address?: AddressDto | null;
  @ArrayOf(() => IdentityNumberDto, 20, '{ number, class, issuing_country_code }') identity_numbers?: IdentityNumberDto[] | null;
  @ReadOnly('is read-only here: change it with POST /v1/identity/accounts/{id}/status') status?: unknown;
  @ReadOnly(SET_BY_SERVER) created_at?: unknown;
  @ReadOnly(SET_BY_SERVER) updated_at?: unknown;
  @ReadOnly('is set by the server: redact with POST /v1/identity/accounts/{id}/redact') redacted_at?: unknown;
}

/** PATCH: entity_type may be repeated unchanged; the domain refuses a change. */
export class AccountAttributesDto extends WritableAttributesDto {
  @IsOptional() @IsIn(ENTITY_TYPES, rule('must be the account\'s own entity_type (person or business): it cannot be changed')) entity_type?: 'person' | 'business';
}

export class CreateAccountAttributesDto extends WritableAttributesDto {
  @IsDefined(rule('is required: person or business')) @IsIn(ENTITY_TYPES, rule('must be person or business')) entity_type!: 'person' | 'business';
}
