import { isJsonObject } from '../../kernel/json';
import { errorObject, JsonApiError, problemsError } from '../../http/jsonapi-error';
import { Account } from '../domain/account';
import { normalizedRelatedId, RELATED_TYPE, relatedIdRule, Relationship } from '../domain/relationships';

// The documents of /accounts/{id}/relationships/{sessions|documents} (docs/API.md): a JSON:API
// linkage, `{ "data": [ { "type": "session", "id": "sess_…" } ] }`, in requests and in answers.

/**
 * The ids a POST or DELETE names. The envelope is checked first, one problem at a time (400, or
 * 409 for a member of another type); then every malformed id at once (422).
 */
export function readLinkageDocument(body: unknown, relationship: Relationship): string[] {
  const type = RELATED_TYPE[relationship];
  if (!isJsonObject(body) || !Array.isArray(body.data)) {
    throw JsonApiError.of(400, 'invalid_document', `The body must be a JSON:API document whose data is an array of ${type} identifiers: { "data": [ { "type": "${type}", "id": "…" } ] }`, {
      source: { pointer: '/data' },
    });
  }
  const items = body.data as unknown[];
  items.forEach((item, i) => {
    const pointer = `/data/${i}`;
    if (!isJsonObject(item)) throw JsonApiError.of(400, 'invalid_document', `data.${i} must be an object { "type": "${type}", "id": "…" }`, { source: { pointer } });
    if (item.type === undefined) throw JsonApiError.of(400, 'invalid_document', `data.${i}.type is required: "${type}"`, { source: { pointer: `${pointer}/type` } });
    if (item.type !== type) throw JsonApiError.of(409, 'type_mismatch', `data.${i}.type must be "${type}": this is the ${relationship} relationship`, { source: { pointer: `${pointer}/type` } });
    if (typeof item.id !== 'string') throw JsonApiError.of(400, 'invalid_document', `data.${i}.id is required: the ${type}'s id, a string`, { source: { pointer: `${pointer}/id` } });
  });
  const ids = items.map((item) => (item as { id: string }).id);
  const problems = ids.flatMap((id, i) =>
    normalizedRelatedId(relationship, id) === null
      ? [errorObject(422, 'invalid_related_id', `data.${i}.id must be ${relatedIdRule(relationship)}`, { source: { pointer: `/data/${i}/id` } })]
      : [],
  );
  if (problems.length) throw problemsError(422, problems);
  return ids;
}

/** The relationship's linkage, newest last, and where it lives. */
export function linkageDocument(account: Account, relationship: Relationship, selfUrl: string) {
  return {
    data: account[relationship].map((id) => ({ type: RELATED_TYPE[relationship], id })),
    links: { self: selfUrl },
  };
}
