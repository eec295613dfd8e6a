// EventStoreDB answers as they arrive on the wire: the client's own generated protobuf messages, and
// its own converter, so unit tests see exactly the objects the client hands the adapter.
import type { AllStreamResolvedEvent } from '@eventstore/db-client';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent';
import { StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';
import { ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';

export interface WireEvent {
  stream: string;
  revision: bigint;
  commit: bigint;
  /** Equal to commit unless given: so it is for every event not written in an explicit transaction. */
  prepare?: bigint;
  type?: string;
  id?: string;
  /** Serialised as JSON unless it is bytes already. */
  data?: unknown;
  metadata?: unknown;
  contentType?: 'application/json' | 'application/octet-stream';
  /** When the server recorded it; EventStoreDB sends it as .NET ticks (100 ns) since the Unix epoch. */
  created?: Date;
}

export function readEvent(event: WireEvent): ReadResp.ReadEvent {
  const record = new ReadResp.ReadEvent.RecordedEvent();
  record.setId(new UUID().setString(event.id ?? randomUUID()));
  record.setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from(event.stream, 'utf8')));
  record.setStreamRevision(event.revision.toString());
  record.setCommitPosition(event.commit.toString());
  record.setPreparePosition((event.prepare ?? event.commit).toString());
  const metadata = record.getMetadataMap();
  metadata.set('type', event.type ?? 'test.happened');
  metadata.set('content-type', event.contentType ?? 'application/json');
  // .NET ticks (100 ns) since the epoch, as the server sends them.
  metadata.set('created', (BigInt((event.created ?? new Date(Date.UTC(2025, 0, 1))).getTime()) * 10_000n).toString());
  record.setData(bytes(event.data ?? {}));
  if (event.metadata !== undefined) record.setCustomMetadata(bytes(event.metadata));
  return new ReadResp.ReadEvent().setEvent(record).setCommitPosition(event.commit.toString());
}

const bytes = (value: unknown): Uint8Array => (value instanceof Uint8Array ? value : Buffer.from(JSON.stringify(value), 'utf8'));

/** What readAll, readStream and subscriptions yield for this event. */
export const resolvedEvent = (event: WireEvent): AllStreamResolvedEvent => convertGrpcEvent(readEvent(event)) as AllStreamResolvedEvent;

export const eventResponse = (event: WireEvent): ReadResp => new ReadResp().setEvent(readEvent(event));

export const checkpointResponse = (commit: bigint, prepare = commit): ReadResp =>
  new ReadResp().setCheckpoint(new ReadResp.Checkpoint().setCommitPosition(commit.toString()).setPreparePosition(prepare.toString()));

export const confirmationResponse = (): ReadResp => new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId('test'));

/** A gRPC failure as the server reports it: a status code and its metadata. */
export function serviceError(code: status, details: string, metadata: Record<string, string> = {}): ServiceError {
  const grpcMetadata = new Metadata();
  for (const [key, value] of Object.entries(metadata)) grpcMetadata.set(key, value);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: grpcMetadata });
}
