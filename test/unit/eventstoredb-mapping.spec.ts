import { convertToCommandError, START as ESDB_START, StreamNotFoundError, WrongExpectedVersionError } from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import {
  decodePosition,
  describeEndpoint,
  encodePosition,
  isLogEvent,
  refusedAppendError,
  toActualRevision,
  toAppendExpectedRevision,
  toRecordedEvent,
  toWrongExpectedRevision,
} from '../../src/storage/eventstoredb/eventstoredb-mapping';
import { ANY, NO_STREAM, START, WrongExpectedRevision } from '../../src/storage/event-store.port';
import { resolvedEvent, serviceError } from '../support/eventstoredb-wire';

const MAX_UINT64 = 2n ** 64n - 1n;
const uint64 = fc.bigInt({ min: 0n, max: MAX_UINT64 });

describe('EventStoreDB positions', () => {
  it('writes { commit, prepare } as 20 + 20 digits, and reads it back', () => {
    expect(encodePosition({ commit: 1234n, prepare: 1230n })).toBe('00000000000000001234/00000000000000001230');
    expect(encodePosition({ commit: MAX_UINT64, prepare: 0n })).toBe('18446744073709551615/00000000000000000000');
    expect(decodePosition('00000000000000001234/00000000000000001230')).toEqual({ commit: 1234n, prepare: 1230n });
  });

  it('round-trips every pair, and orders the strings as (commit, prepare)', () => {
    fc.assert(
      fc.property(uint64, uint64, uint64, uint64, (c1, p1, c2, p2) => {
        const a = encodePosition({ commit: c1, prepare: p1 });
        const b = encodePosition({ commit: c2, prepare: p2 });
        expect(decodePosition(a)).toEqual({ commit: c1, prepare: p1 });
        const byPair = c1 === c2 ? Math.sign(Number(p1 - p2)) : Math.sign(Number(c1 - c2));
        expect(a < b ? -1 : a > b ? 1 : 0).toBe(byPair);
        // Every position is after START, as the port requires.
        expect(a > START).toBe(true);
      }),
    );
  });

  it("reads the port's START as the client's START", () => {
    expect(decodePosition(START)).toBe(ESDB_START);
  });

  it('refuses what is not one of its positions (a SQLite checkpoint, say) instead of guessing', () => {
    expect(() => decodePosition('00000000000000000042')).toThrow('Not a position of the EventStoreDB event store: "00000000000000000042"');
    expect(() => decodePosition('1/2')).toThrow('Not a position of the EventStoreDB event store');
    expect(() => encodePosition({ commit: -1n, prepare: 0n })).toThrow('Not an EventStoreDB position part: -1');
    expect(() => encodePosition({ commit: MAX_UINT64 + 1n, prepare: 0n })).toThrow('Not an EventStoreDB position part');
  });

  it('leaves no bigint for JSON.stringify to meet', () => {
    expect(JSON.stringify({ checkpoint: encodePosition({ commit: 7n, prepare: 7n }) })).toBe('{"checkpoint":"00000000000000000007/00000000000000000007"}');
  });
});

describe('EventStoreDB revisions and refusals', () => {
  it('passes the expected revision as the client names it', () => {
    expect(toAppendExpectedRevision(NO_STREAM)).toBe('no_stream');
    expect(toAppendExpectedRevision(ANY)).toBe('any');
    expect(toAppendExpectedRevision(41n)).toBe(41n);
    expect(() => toAppendExpectedRevision(-1n)).toThrow('An expected revision is 0n or more');
  });

  it("names the stream's actual revision: a bigint, or NO_STREAM for 'no_stream' and -1", () => {
    expect(toActualRevision(3n)).toBe(3n);
    expect(toActualRevision(0n)).toBe(0n);
    expect(toActualRevision('no_stream')).toBe(NO_STREAM);
    expect(toActualRevision(-1n)).toBe(NO_STREAM);
  });

  it('turns the WrongExpectedVersionError of a refused append into WrongExpectedRevision', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'account-acc_1', expected: 0n, current: 2n });
    const mapped = toWrongExpectedRevision(error, 'account-acc_1', 0n);
    expect(mapped).toBeInstanceOf(WrongExpectedRevision);
    expect(mapped).toMatchObject({ stream: 'account-acc_1', expected: 0n, actual: 2n, message: 'Stream account-acc_1 is at 2, expected 0' });

    const absent = new WrongExpectedVersionError(undefined, { streamName: 'account-acc_2', expected: 4n, current: 'no_stream' });
    expect(toWrongExpectedRevision(absent, 'account-acc_2', 4n)).toMatchObject({ expected: 4n, actual: NO_STREAM });
  });

  it('does the same for the error the client makes of a gRPC failure (servers that answer with metadata)', () => {
    const fromWire = convertToCommandError(
      serviceError(status.FAILED_PRECONDITION, 'wrong expected version', {
        exception: 'wrong-expected-version',
        'stream-name': 'account-acc_1',
        'expected-version': '-1',
        'actual-version': '5',
      }),
    );
    expect(fromWire).toBeInstanceOf(WrongExpectedVersionError);
    expect(toWrongExpectedRevision(fromWire as WrongExpectedVersionError, 'account-acc_1', NO_STREAM)).toMatchObject({ expected: NO_STREAM, actual: 5n });

    const noActual = convertToCommandError(
      serviceError(status.FAILED_PRECONDITION, 'wrong expected version', { exception: 'wrong-expected-version', 'stream-name': 's', 'expected-version': '0' }),
    );
    expect(toWrongExpectedRevision(noActual as WrongExpectedVersionError, 's', 0n)).toMatchObject({ actual: NO_STREAM });
  });

  it('treats an append answered success: false (throwOnAppendFailure=false) as the same refusal', () => {
    expect(refusedAppendError({ success: false, nextExpectedRevision: 3n, position: undefined }, 's', 1n)).toMatchObject({ stream: 's', expected: 1n, actual: 3n });
    expect(refusedAppendError({ success: false, nextExpectedRevision: -1n, position: undefined }, 's', 1n)).toMatchObject({ actual: NO_STREAM });
  });

  it('keeps StreamNotFoundError a class of its own, which readStream turns into []', () => {
    // The adapter catches exactly this class; a change in the client that broke it would show here.
    expect(new StreamNotFoundError(undefined, 'account-acc_1')).toBeInstanceOf(StreamNotFoundError);
    expect(convertToCommandError(serviceError(status.NOT_FOUND, 'not found', { exception: 'stream-not-found', 'stream-name': 'x' }))).toBeInstanceOf(StreamNotFoundError);
  });
});

describe('EventStoreDB recorded events', () => {
  it('maps what the client read to a RecordedEvent: id, type, stream, revision, position, data and metadata as stored, and when it was recorded', () => {
    const data = { text: 'Zoë 🌍 「名前」', nested: { list: [1, 2.5, null, true] } };
    const read = resolvedEvent({
      id: '8a1b2c3d-0000-4000-8000-000000000001',
      stream: 'account-acc_1',
      revision: 7n,
      commit: 9000n,
      type: 'account.updated',
      data,
      metadata: { prev_hash: null, request_id: 'req_1' },
      created: new Date('2026-03-04T05:06:07.089Z'),
    });
    expect(toRecordedEvent(read)).toEqual({
      id: '8a1b2c3d-0000-4000-8000-000000000001',
      type: 'account.updated',
      stream: 'account-acc_1',
      revision: 7n,
      position: '00000000000000009000/00000000000000009000',
      data,
      metadata: { prev_hash: null, request_id: 'req_1' },
      recordedAt: new Date('2026-03-04T05:06:07.089Z'),
    });
  });

  it('reads an event stored without metadata as {}', () => {
    expect(toRecordedEvent(resolvedEvent({ stream: 's', revision: 0n, commit: 1n })).metadata).toEqual({});
  });

  it('refuses, rather than guesses, an event it cannot describe', () => {
    expect(() => toRecordedEvent(resolvedEvent({ stream: 'account-x', revision: 0n, commit: 1n, contentType: 'application/octet-stream', data: new Uint8Array([1]) }))).toThrow(
      /is not a JSON object/,
    );
    expect(() => toRecordedEvent(resolvedEvent({ stream: 'account-x', revision: 0n, commit: 1n, data: [1, 2] }))).toThrow(/is not a JSON object/);
    expect(() => toRecordedEvent(resolvedEvent({ stream: 'account-x', revision: 0n, commit: 1n, metadata: 'text' }))).toThrow(/metadata .* is not a JSON object/);
    expect(() => toRecordedEvent({})).toThrow('EventStoreDB returned a link to an event that no longer exists');
    const withoutPosition = resolvedEvent({ stream: 'account-x', revision: 0n, commit: 1n });
    delete (withoutPosition.event as { position?: unknown }).position;
    expect(() => toRecordedEvent(withoutPosition)).toThrow('version 22.6 or later is needed');
  });

  it("counts in the port's log only JSON objects outside system streams", () => {
    expect(isLogEvent(resolvedEvent({ stream: 'account-acc_1', revision: 0n, commit: 1n }))).toBe(true);
    expect(isLogEvent(resolvedEvent({ stream: 'external-id-ab12', revision: 0n, commit: 1n }))).toBe(true);
    expect(isLogEvent(resolvedEvent({ stream: '$settings', revision: 0n, commit: 1n, type: '$settings' }))).toBe(false);
    expect(isLogEvent(resolvedEvent({ stream: '$$account-acc_1', revision: 0n, commit: 1n, type: '$metadata' }))).toBe(false);
    expect(isLogEvent(resolvedEvent({ stream: 'their-app', revision: 0n, commit: 1n, contentType: 'application/octet-stream', data: new Uint8Array([0]) }))).toBe(false);
    expect(isLogEvent({})).toBe(false);
  });
});

describe('EventStoreDB endpoints in messages', () => {
  it('shows the hosts of a connection string, never its credentials or query', () => {
    expect(describeEndpoint('esdb://localhost:2113?tls=false')).toBe('localhost:2113');
    expect(describeEndpoint('esdb://admin:changeit@eventstore:2113?tls=false')).toBe('eventstore:2113');
    expect(describeEndpoint('esdb+discover://admin:p@ss/w?rd@a.example:2113,b.example:2113?tls=true&tlsCAFile=/x')).toBe('a.example:2113,b.example:2113');
    expect(describeEndpoint('not a connection string')).toBe('(hosts not shown)');
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (password) => {
        const shown = describeEndpoint(`esdb://admin:${password}@db.internal:2113?tls=false`);
        expect(shown === 'db.internal:2113' || shown === '(hosts not shown)').toBe(true);
      }),
    );
  });
});
