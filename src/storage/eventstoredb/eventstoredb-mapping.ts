// Pure translations between the port and @eventstore/db-client: positions, revisions, errors and
// recorded events. Kept apart from the adapter so each is unit-tested with the client's own types.
import {
  START as ESDB_START,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult as EsdbAppendResult,
  type CurrentRevision,
  type Position as EsdbPosition,
  type ReadPosition,
  type ResolvedEvent,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { ExpectedRevision, NO_STREAM, Position, RecordedEvent, START, WrongExpectedRevision } from '../event-store.port';

// commit and prepare are unsigned 64-bit numbers: 20 digits hold any of them.
const DIGITS = 20;
const MAX_UINT64 = 2n ** 64n - 1n;
const POSITION_PATTERN = /^(\d{20})\/(\d{20})$/;

/**
 * `{ commit, prepare }` as one fixed-width string, commit first: string order is then (commit,
 * prepare) order, so positions compare as strings like every other adapter's. No bigint is ever
 * left for JSON.stringify to meet.
 */
export function encodePosition({ commit, prepare }: EsdbPosition): Position {
  for (const part of [commit, prepare]) {
    if (typeof part !== 'bigint' || part < 0n || part > MAX_UINT64) throw new Error(`Not an EventStoreDB position part: ${String(part)}`);
  }
  return `${commit.toString().padStart(DIGITS, '0')}/${prepare.toString().padStart(DIGITS, '0')}`;
}

/** The client's read position for a port position; START is the client's START. */
export function decodePosition(position: Position): ReadPosition {
  if (position === START) return ESDB_START;
  const match = POSITION_PATTERN.exec(position);
  if (!match) throw new Error(`Not a position of the EventStoreDB event store: ${JSON.stringify(position)}`);
  return { commit: BigInt(match[1]), prepare: BigInt(match[2]) };
}

/** The port's expected revisions are the client's own values (NO_STREAM, ANY, bigint): only checked, never converted. */
export function toAppendExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (typeof expected === 'bigint' && expected < 0n) throw new Error(`An expected revision is 0n or more, got ${expected}`);
  return expected;
}

/** The stream's actual revision as the port names it: 'no_stream' (or the -1 some answers carry) is NO_STREAM. */
export function toActualRevision(current: CurrentRevision | undefined): bigint | typeof NO_STREAM {
  return typeof current === 'bigint' && current >= 0n ? current : NO_STREAM;
}

/** The client's refusal of an append, as the port's error. */
export function toWrongExpectedRevision(error: WrongExpectedVersionError, stream: string, expected: ExpectedRevision): WrongExpectedRevision {
  return new WrongExpectedRevision(stream, expected, toActualRevision(error.actualVersion));
}

/**
 * An append answered `success: false` instead of throwing (a connection string with
 * throwOnAppendFailure=false): the same refusal. Its nextExpectedRevision is the stream's, -1 for none.
 */
export function refusedAppendError(result: EsdbAppendResult, stream: string, expected: ExpectedRevision): WrongExpectedRevision {
  return new WrongExpectedRevision(stream, expected, toActualRevision(result.nextExpectedRevision));
}

/** EventStoreDB's own streams ($settings, $stats-…, $$metadata, …) hold no events of this service. */
export const isSystemStream = (stream: string): boolean => stream.startsWith('$');

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/**
 * Whether a read of $all counts an event as part of the port's global log: a JSON object in a stream
 * that is not a system stream. Binary or non-object events of other writers on a shared server are
 * not events this port can describe, so readAll and headPosition pass them by alike.
 */
export function isLogEvent(resolved: AllStreamResolvedEvent | ResolvedEvent): boolean {
  const event = resolved.event;
  return !!event && !isSystemStream(event.streamId) && event.isJson && isPlainObject(event.data) && (event.metadata === undefined || isPlainObject(event.metadata));
}

/** A read or delivered event as the port's RecordedEvent; anything it cannot describe is an error, never a guess. */
export function toRecordedEvent(resolved: AllStreamResolvedEvent | ResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (!event) throw new Error('EventStoreDB returned a link to an event that no longer exists');
  const where = `event ${event.id} of ${event.streamId}`;
  if (!event.isJson || !isPlainObject(event.data)) throw new Error(`The ${where} is not a JSON object`);
  if (event.metadata !== undefined && !isPlainObject(event.metadata)) throw new Error(`The metadata of the ${where} is not a JSON object`);
  // Stream reads carry positions from EventStoreDB 22.6 on.
  if (!event.position) throw new Error(`EventStoreDB gave no position for the ${where}: version 22.6 or later is needed`);
  return {
    id: event.id,
    type: event.type,
    stream: event.streamId,
    revision: event.revision,
    position: encodePosition(event.position),
    recordedAt: event.created,
    data: event.data,
    metadata: event.metadata ?? {},
  };
}

/**
 * The hosts of a connection string, for messages: never its user name or password, nor its query.
 * `esdb+discover://admin:changeit@a:2113,b:2113?tls=false` → `a:2113,b:2113`. Credentials come
 * before the last '@', so nothing before it is shown; what follows is shown only if it looks like hosts.
 */
export function describeEndpoint(connectionString: string): string {
  const afterScheme = connectionString.replace(/^[a-z+]*:\/\//i, '');
  const hosts = afterScheme.slice(afterScheme.lastIndexOf('@') + 1).split(/[/?]/)[0];
  return /^[A-Za-z0-9.\-:,[\]]+$/.test(hosts) ? hosts : '(hosts not shown)';
}
