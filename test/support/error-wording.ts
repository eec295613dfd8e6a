// What makes an error detail one a person can act on: it names the place at fault in full and says
// what is allowed, in the service's own words, never in class-validator's default ones.

import { tokensOf } from '../../src/http/json-pointer';

/** Distinctive parts of class-validator's default messages (and its default for nested and unknown values). */
export const DEFAULT_PHRASES = [
  'should not be null or undefined',
  'should not be empty',
  'must be longer than or equal to',
  'must be shorter than or equal to',
  'must be one of the following values',
  'must contain no more than',
  'conforming to the specified constraints',
  'must not be less than',
  'must not be greater than',
  'regular expression',
  'must be an email',
  'ISO31661',
  'nested property',
  'either object or array',
  'an unknown value was passed',
  'should not exist',
  'each value in',
];
/** A default message that ends after the type: "first must be a string". */
const BARE_TYPE_RULE = /must be (a string|an object|an array|a number)$/;

export interface ErrorObject {
  detail: string;
  source?: { pointer?: string; parameter?: string; header?: string };
}

/** `/data/attributes/person/name/first` → `person.name.first`; `/data/type` → `data.type`; tokens unescaped (RFC 6901). */
export function nameOfPointer(pointer: string): string {
  const path = pointer.startsWith('/data/attributes/') ? pointer.slice('/data/attributes/'.length) : pointer.slice(1);
  return tokensOf(path).join('.');
}

/** Why this error's detail would leave a person guessing, or null when it is fine. */
export function wordingProblem(error: ErrorObject): string | null {
  const phrase = DEFAULT_PHRASES.find((p) => error.detail.includes(p));
  if (phrase) return `"${error.detail}" uses class-validator's wording "${phrase}"`;
  if (BARE_TYPE_RULE.test(error.detail)) return `"${error.detail}" names a type but not what is allowed`;
  const place = error.source?.pointer !== undefined ? nameOfPointer(error.source.pointer) : error.source?.parameter;
  if (place !== undefined && !error.detail.includes(place)) return `"${error.detail}" does not name ${place}`;
  return null;
}
