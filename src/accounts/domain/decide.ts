import { Account, ENTITY_TYPES, EntityType, PersonalData, WRITABLE_FIELDS, WritableField } from './account';
import { AccountCommand, ChangeStatus, CreateAccount, LinkRelated, RedactAccount, UnlinkRelated, UpdateAccount } from './commands';
import { MAX_LINKED, normalizedRelatedId, Relationship } from './relationships';
import { AccountAlreadyExists, AccountNotFound, AccountRedacted, InvalidRelatedId, InvalidStatusTransition, TooManyLinked } from './rules';
import { canTransition } from './status-transitions';
import {
  ACCOUNT_CREATED,
  ACCOUNT_DOCUMENT_LINKED,
  ACCOUNT_DOCUMENT_UNLINKED,
  ACCOUNT_REDACTED,
  ACCOUNT_SESSION_LINKED,
  ACCOUNT_SESSION_UNLINKED,
  ACCOUNT_STATUS_CHANGED,
  ACCOUNT_UPDATED,
  AccountEvent,
  AccountUpdated,
} from './events';
import { AttributeProblem, InvalidAttributes } from './errors';
import { mergePatch } from './merge-patch';
import { AccountInput, toAddress, toBusiness, toContact, toIdentityNumbers, toPerson, toPersonalData } from './shapes';

/** Pure business logic: given the current state and a command, the events it causes (or a refusal). */
export function decide(command: AccountCommand, state: Account | null): AccountEvent[] {
  switch (command.kind) {
    case 'CreateAccount':
      return create(command, state);
    case 'UpdateAccount':
      return update(command, state);
    case 'ChangeStatus':
      return changeStatus(command, state);
    case 'RedactAccount':
      return redact(command, state);
    case 'LinkRelated':
      return link(command, state);
    case 'UnlinkRelated':
      return unlink(command, state);
  }
}

function create(command: CreateAccount, state: Account | null): AccountEvent[] {
  if (state) throw AccountAlreadyExists(state.id);
  const entityType = command.attributes.entity_type as EntityType;
  // The HTTP layer checks this too; the aggregate must not trust it, since an event it records
  // with a bad entity_type could never be folded again.
  if (!ENTITY_TYPES.includes(entityType)) {
    throw new InvalidAttributes([{ path: 'entity_type', code: 'invalid_attribute', detail: `entity_type must be one of ${ENTITY_TYPES.join(', ')}` }]);
  }
  const personal = toPersonalData(command.attributes, command.now);
  const problems = entityTypeProblems(entityType, command.attributes);
  if (problems.length) throw new InvalidAttributes(problems);
  return [
    {
      type: ACCOUNT_CREATED,
      data: {
        account_id: command.account_id,
        tenant: command.tenant,
        entity_type: entityType,
        external_id: command.attributes.external_id ?? null,
        ...personal,
        created_at: command.now,
      },
    },
  ];
}

function update(command: UpdateAccount, state: Account | null): AccountEvent[] {
  if (!state) throw AccountNotFound();
  if (state.redacted_at) throw AccountRedacted();
  const input = command.attributes;
  const problems: AttributeProblem[] = [];
  if (input.entity_type !== undefined && input.entity_type !== state.entity_type) {
    problems.push({ path: 'entity_type', code: 'read_only_attribute', detail: 'entity_type cannot be changed after the account is created' });
  }
  problems.push(...entityTypeProblems(state.entity_type, input));
  if (problems.length) throw new InvalidAttributes(problems);

  const next = applyPatch(state, input, command.now);
  const changed = WRITABLE_FIELDS.filter((field) => input[field] !== undefined && !sameValue(state[field], next[field]));
  if (changed.length === 0) return [];
  const data: AccountUpdated['data'] = { account_id: state.id, changed, updated_at: command.now };
  for (const field of changed) Object.assign(data, { [field]: next[field] });
  return [{ type: ACCOUNT_UPDATED, data }];
}

function changeStatus(command: ChangeStatus, state: Account | null): AccountEvent[] {
  if (!state) throw AccountNotFound();
  if (state.redacted_at) throw AccountRedacted();
  if (command.status === state.status) return [];
  if (!canTransition(state.status, command.status)) throw InvalidStatusTransition(state.status, command.status);
  return [
    {
      type: ACCOUNT_STATUS_CHANGED,
      data: { account_id: state.id, from: state.status, to: command.status, reason: command.reason, changed_at: command.now },
    },
  ];
}

/** Irreversible, and idempotent: redacting a redacted account records nothing. */
function redact(command: RedactAccount, state: Account | null): AccountEvent[] {
  if (!state) throw AccountNotFound();
  if (state.redacted_at) return [];
  return [{ type: ACCOUNT_REDACTED, data: { account_id: state.id, redacted_at: command.now } }];
}

/** Idempotent: ids it links already (or named twice) are linked once; nothing new records nothing. */
function link(command: LinkRelated, state: Account | null): AccountEvent[] {
  const { relationship, now } = command;
  const linked = frozenRelationship(state, relationship);
  const adding = relatedIds(command).filter((id) => !linked.includes(id));
  if (linked.length + adding.length > MAX_LINKED) throw TooManyLinked(relationship, linked.length, adding.length);
  const accountId = state!.id;
  return adding.map((id) =>
    relationship === 'sessions'
      ? { type: ACCOUNT_SESSION_LINKED, data: { account_id: accountId, session_id: id, linked_at: now } }
      : { type: ACCOUNT_DOCUMENT_LINKED, data: { account_id: accountId, document_id: id, linked_at: now } },
  );
}

/** Idempotent: ids it does not link are passed over. */
function unlink(command: UnlinkRelated, state: Account | null): AccountEvent[] {
  const { relationship, now } = command;
  const linked = frozenRelationship(state, relationship);
  const accountId = state!.id;
  return relatedIds(command)
    .filter((id) => linked.includes(id))
    .map((id) =>
      relationship === 'sessions'
        ? { type: ACCOUNT_SESSION_UNLINKED, data: { account_id: accountId, session_id: id, unlinked_at: now } }
        : { type: ACCOUNT_DOCUMENT_UNLINKED, data: { account_id: accountId, document_id: id, unlinked_at: now } },
    );
}

/** The ids linked now, once the account is known to exist and to be open to changes. */
function frozenRelationship(state: Account | null, relationship: Relationship): readonly string[] {
  if (!state) throw AccountNotFound();
  if (state.redacted_at) throw AccountRedacted();
  return state[relationship];
}

/** The command's ids, each once, as the account keeps them. The HTTP layer checks them too; an event must never hold a bad one. */
function relatedIds({ relationship, ids }: LinkRelated | UnlinkRelated): string[] {
  const normalized = ids.map((id) => normalizedRelatedId(relationship, id));
  if (normalized.some((id) => id === null)) throw InvalidRelatedId(relationship);
  return [...new Set(normalized as string[])];
}

type Writable = Pick<PersonalData, Exclude<WritableField, 'external_id'>> & { external_id: string | null };

function applyPatch(state: Account, input: AccountInput, now: string): Writable {
  const merged = <K extends 'person' | 'business' | 'contact' | 'address'>(field: K) =>
    input[field] === undefined ? state[field] : input[field] === null ? null : (mergePatch(state[field], input[field]) as never);
  return {
    external_id: input.external_id === undefined ? state.external_id : input.external_id,
    person: toPerson(merged('person')),
    business: toBusiness(merged('business')),
    contact: toContact(merged('contact')),
    address: toAddress(merged('address')),
    identity_numbers:
      input.identity_numbers === undefined ? state.identity_numbers : toIdentityNumbers(input.identity_numbers, state.identity_numbers, now),
  };
}

/** `person` belongs on person accounts only, `business` on business accounts only. */
export function entityTypeProblems(entityType: EntityType | string, input: AccountInput): AttributeProblem[] {
  const problems: AttributeProblem[] = [];
  if (entityType === 'business' && input.person != null) {
    problems.push({ path: 'person', code: 'invalid_attribute', detail: 'person is only allowed on accounts with entity_type person' });
  }
  if (entityType === 'person' && input.business != null) {
    problems.push({ path: 'business', code: 'invalid_attribute', detail: 'business is only allowed on accounts with entity_type business' });
  }
  return problems;
}

// Shapes are normalised with a fixed key order, so serialised equality is value equality.
const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
