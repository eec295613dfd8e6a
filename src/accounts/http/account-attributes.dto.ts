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
  ValidationOptions,
} from 'class-validator';
import { ENTITY_TYPES } from '../domain/account';

// The attribute rules of SPEC §2. IsOptional lets null through: null means "none" (create) or
// "clear" (PATCH, RFC 7396). Shapes are partial; the domain completes them with nulls.

// Whole code points only: a lone surrogate is not printable (and SQLite would store it as U+FFFD).
export const PRINTABLE = /^[\x20-\x7E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;

/** A real calendar date YYYY-MM-DD (no Feb 30), not before `min`. "Not in the future" needs the clock: see account-document.ts. */
function IsCalendarDate(min: string, options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isCalendarDate',
      target: target.constructor,
      propertyName: property,
      options: { message: `$property must be a real calendar date YYYY-MM-DD, not before ${min}`, ...options },
      validator: { validate: (value: unknown) => isCalendarDate(value) && value >= min },
    });
}

export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** Set by the server: a client may not write it. */
export function ReadOnly(detail: string) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'readOnly',
      target: target.constructor,
      propertyName: property,
      options: { message: detail },
      validator: { validate: (value: unknown) => value === undefined },
    });
}

// ValidateNested alone would descend into an array inside the array ([[{...}]]) and let it through.
const EACH_OBJECT = 'each entry of $property must be an object';

const Name = () => (target: object, property: string) => {
  IsOptional()(target, property);
  IsString()(target, property);
  Length(1, 200)(target, property);
};

const Text = (max: number) => (target: object, property: string) => {
  IsOptional()(target, property);
  IsString()(target, property);
  Length(1, max)(target, property);
};

const Nested = (type: () => new () => object) => (target: object, property: string) => {
  IsOptional()(target, property);
  IsObject()(target, property);
  ValidateNested()(target, property);
  Type(type)(target, property);
};

export class PersonNameDto {
  @Name() first?: string | null;
  @Name() middle?: string | null;
  @Name() last?: string | null;
}

export class PersonDto {
  @Nested(() => PersonNameDto) name?: PersonNameDto | null;
  @IsOptional() @IsCalendarDate('1900-01-01') birth_date?: string | null;
  @IsOptional() @IsIn(['female', 'male', 'other']) sex?: 'female' | 'male' | 'other' | null;
}

export class ShareholderDto {
  @Text(200) name?: string | null;
  @IsOptional() @IsIn(ENTITY_TYPES) shareholder_type?: 'person' | 'business' | null;
  @IsOptional() @IsCalendarDate('1900-01-01') date_of_birth?: string | null;
  @Text(50) id_type?: string | null;
  @Text(100) id_number?: string | null;
  @IsOptional() @IsString() @Matches(/^\d+$/, { message: '$property must be a string of digits' }) @MaxLength(30) number_of_share?: string | null;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }, { message: '$property must be a number from 0 to 100' }) @Min(0) @Max(100) percentage_of_share?: number | null;
}

export class BusinessDto {
  @Text(300) legal_name?: string | null;
  @IsOptional() @IsCalendarDate('1800-01-01') registration_date?: string | null;
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsObject({ each: true, message: EACH_OBJECT }) @ValidateNested({ each: true }) @Type(() => ShareholderDto) shareholders?: ShareholderDto[] | null;
}

export class ContactDto {
  @IsOptional() @IsString() @MaxLength(254) @IsEmail({}, { message: '$property must be a valid email address' }) email?: string | null;
  @IsOptional() @IsString() @Matches(/^\+[0-9]{7,15}$/, { message: '$property must be in E.164 format: + and 7 to 15 digits' }) phone?: string | null;
}

export class AddressDto {
  @Text(200) line1?: string | null;
  @Text(200) line2?: string | null;
  @Text(200) sublocality?: string | null;
  @Text(200) locality?: string | null;
  @Text(200) administrative_area?: string | null;
  @Text(20) postal_code?: string | null;
  @IsOptional() @IsISO31661Alpha2({ message: '$property must be an ISO 3166-1 alpha-2 country code' }) country_code?: string | null;
}

export class IdentityNumberDto {
  @IsDefined() @IsString() @Length(1, 100) number!: string;
  @IsOptional() @IsISO31661Alpha2({ message: '$property must be an ISO 3166-1 alpha-2 country code' }) issuing_country_code?: string | null;
  @IsDefined() @IsString() @Matches(/^[a-z][a-z0-9_]{0,49}$/, { message: '$property must be a lowercase token such as ssn or passport' })
  class!: string;
  @ReadOnly('created_at of an identity number is set by the server') created_at?: unknown;
  @ReadOnly('updated_at of an identity number is set by the server') updated_at?: unknown;
}

/**
 * Everything a client may send but entity_type, whose rule differs between create and PATCH; what
 * is only read is marked. entity_type is declared in each subclass, not overridden: an inherited
 * @IsOptional would skip the subclass's @IsDefined too (class-validator merges the rules).
 */
abstract class WritableAttributesDto {
  @IsOptional() @IsString() @Length(1, 255) @Matches(PRINTABLE, { message: '$property must be printable characters' }) external_id?: string | null;
  @Nested(() => PersonDto) person?: PersonDto | null;
  @Nested(() => BusinessDto) business?: BusinessDto | null;
  @Nested(() => ContactDto) contact?: ContactDto | null;
  @Nested(() => AddressDto) address?: AddressDto | null;
  @IsOptional() @IsArray() @ArrayMaxSize(20) @IsObject({ each: true, message: EACH_OBJECT }) @ValidateNested({ each: true }) @Type(() => IdentityNumberDto) identity_numbers?: IdentityNumberDto[] | null;
  @ReadOnly('status is read-only here: change it with POST /v1/identity/accounts/{id}/status') status?: unknown;
  @ReadOnly('created_at is set by the server') created_at?: unknown;
  @ReadOnly('updated_at is set by the server') updated_at?: unknown;
  @ReadOnly('redacted_at is set by the server: redact with POST /v1/identity/accounts/{id}/redact') redacted_at?: unknown;
}

/** PATCH: entity_type may be repeated unchanged; the domain refuses a change. */
export class AccountAttributesDto extends WritableAttributesDto {
  @IsOptional() @IsIn(ENTITY_TYPES) entity_type?: 'person' | 'business';
}

export class CreateAccountAttributesDto extends WritableAttributesDto {
  @IsDefined({ message: 'entity_type is required: person or business' }) @IsIn(ENTITY_TYPES) entity_type!: 'person' | 'business';
}
