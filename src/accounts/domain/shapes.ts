import {
  Address,
  Business,
  Contact,
  IdentityNumber,
  Person,
  PersonalData,
  Shareholder,
} from './account';

// Nested objects always carry every key of their shape (absent values as null), as the guide's
// response example shows. These functions turn validated, possibly partial input into full shapes.

export type Partially<T> = { [K in keyof T]?: T[K] extends object | null ? Partially<NonNullable<T[K]>> | null : T[K] | null };

export interface IdentityNumberInput {
  number: string;
  issuing_country_code?: string | null;
  class: string;
}

/** Attributes as a client writes them: any subset, nested objects partial. */
export interface AccountInput {
  external_id?: string | null;
  entity_type?: string;
  person?: Partially<Person> | null;
  business?: (Partially<Omit<Business, 'shareholders'>> & { shareholders?: Partially<Shareholder>[] | null }) | null;
  contact?: Partially<Contact> | null;
  address?: Partially<Address> | null;
  identity_numbers?: IdentityNumberInput[] | null;
}

const orNull = <T>(value: T | null | undefined): T | null => (value === undefined ? null : value);

export function toPerson(input: AccountInput['person']): Person | null {
  if (!input) return null;
  return {
    name: {
      first: orNull(input.name?.first),
      middle: orNull(input.name?.middle),
      last: orNull(input.name?.last),
    },
    birth_date: orNull(input.birth_date),
    sex: orNull(input.sex),
  };
}

function toShareholder(input: Partially<Shareholder>): Shareholder {
  return {
    name: orNull(input.name),
    shareholder_type: orNull(input.shareholder_type),
    date_of_birth: orNull(input.date_of_birth),
    id_type: orNull(input.id_type),
    id_number: orNull(input.id_number),
    number_of_share: orNull(input.number_of_share),
    percentage_of_share: orNull(input.percentage_of_share),
  };
}

export function toBusiness(input: AccountInput['business']): Business | null {
  if (!input) return null;
  return {
    legal_name: orNull(input.legal_name),
    registration_date: orNull(input.registration_date),
    shareholders: (input.shareholders ?? []).map(toShareholder),
  };
}

export function toContact(input: AccountInput['contact']): Contact | null {
  if (!input) return null;
  return { email: orNull(input.email), phone: orNull(input.phone) };
}

export function toAddress(input: AccountInput['address']): Address | null {
  if (!input) return null;
  return {
    line1: orNull(input.line1),
    line2: orNull(input.line2),
    sublocality: orNull(input.sublocality),
    locality: orNull(input.locality),
    administrative_area: orNull(input.administrative_area),
    postal_code: orNull(input.postal_code),
    country_code: orNull(input.country_code),
  };
}

/**
 * identity_numbers is replaced as a whole. An entry that keeps its (class, issuing country) keeps
 * its created_at; if its number changed, updated_at records when.
 */
export function toIdentityNumbers(
  input: IdentityNumberInput[] | null | undefined,
  previous: IdentityNumber[],
  now: string,
): IdentityNumber[] {
  return (input ?? []).map((entry) => {
    const country = orNull(entry.issuing_country_code);
    const before = previous.find((p) => p.class === entry.class && p.issuing_country_code === country);
    if (!before) return { number: entry.number, issuing_country_code: country, class: entry.class, created_at: now, updated_at: null };
    if (before.number === entry.number) return before;
    return { ...before, number: entry.number, updated_at: now };
  });
}

export function toPersonalData(input: AccountInput, now: string): PersonalData {
  return {
    person: toPerson(input.person),
    business: toBusiness(input.business),
    contact: toContact(input.contact),
    address: toAddress(input.address),
    identity_numbers: toIdentityNumbers(input.identity_numbers, [], now),
  };
}
