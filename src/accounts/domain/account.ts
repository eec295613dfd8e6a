import { Tenant } from '../../kernel/tenant';

// Attribute names are the contract's own (snake_case): they travel unchanged from the API through
// the events to the read model, so there is no mapping layer that could drift.

export type AccountStatus = 'active' | 'pending' | 'inactive' | 'suspended';
export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['active', 'pending', 'inactive', 'suspended'];

export type EntityType = 'person' | 'business';
export const ENTITY_TYPES: readonly EntityType[] = ['person', 'business'];

export type Sex = 'female' | 'male' | 'other';

export interface PersonName {
  first: string | null;
  middle: string | null;
  last: string | null;
}

export interface Person {
  name: PersonName;
  birth_date: string | null;
  sex: Sex | null;
}

export interface Shareholder {
  name: string | null;
  shareholder_type: EntityType | null;
  date_of_birth: string | null;
  id_type: string | null;
  id_number: string | null;
  number_of_share: string | null;
  percentage_of_share: number | null;
}

export interface Business {
  legal_name: string | null;
  registration_date: string | null;
  shareholders: Shareholder[];
}

export interface Contact {
  email: string | null;
  phone: string | null;
}

export interface Address {
  line1: string | null;
  line2: string | null;
  sublocality: string | null;
  locality: string | null;
  administrative_area: string | null;
  postal_code: string | null;
  country_code: string | null;
}

export interface IdentityNumber {
  number: string;
  issuing_country_code: string | null;
  class: string;
  created_at: string;
  updated_at: string | null;
}

/** Everything that identifies a person: encrypted in events, erased by redaction. */
export interface PersonalData {
  person: Person | null;
  business: Business | null;
  contact: Contact | null;
  address: Address | null;
  identity_numbers: IdentityNumber[];
}

export const PERSONAL_FIELDS = ['person', 'business', 'contact', 'address', 'identity_numbers'] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

/** The attributes a client may write (create or PATCH). */
export const WRITABLE_FIELDS = ['external_id', ...PERSONAL_FIELDS] as const;
export type WritableField = (typeof WRITABLE_FIELDS)[number];

export const NO_PERSONAL_DATA: PersonalData = {
  person: null,
  business: null,
  contact: null,
  address: null,
  identity_numbers: [],
};

export interface Account extends PersonalData {
  id: string;
  tenant: Tenant;
  status: AccountStatus;
  external_id: string | null;
  entity_type: EntityType;
  sessions: string[];
  documents: string[];
  created_at: string;
  updated_at: string | null;
  redacted_at: string | null;
}
