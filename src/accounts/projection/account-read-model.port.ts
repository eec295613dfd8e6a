import { Position } from '../../storage/event-store.port';
import { Tenant } from '../../kernel/tenant';
import { Account, AccountStatus, EntityType, PersonalData } from '../domain/account';

/** An account as the read model keeps it: personal data only sealed with the account's data key. */
export interface AccountRow extends Omit<Account, keyof PersonalData> {
  /** PersonalData sealed by PersonalDataCipher; null once redacted. */
  sealed_personal: string | null;
  /** The stream revision this row reflects: events at or below it are already applied. */
  revision: bigint;
}

/** Every filter present must match; the tenant always does. */
export interface AccountFilter {
  external_id?: string;
  status?: AccountStatus;
  entity_type?: EntityType;
  /** Accounts that link this session (as the account keeps it: see normalizedRelatedId). */
  session?: string;
  /** Accounts that link this document. */
  document?: string;
}

/** The filters that name a linked session or document, and the relationship each looks in. */
export const LINK_FILTERS = { session: 'sessions', document: 'documents' } as const;

/**
 * A boundary in a tenant's list, which runs newest first by (created_at, id): that key is immutable,
 * so pages keep their place while accounts are created between requests. `inclusive` takes the
 * account at the boundary in too (the neighbour of an empty page starts at its boundary).
 */
export interface ListBound {
  created_at: string;
  id: string;
  inclusive: boolean;
}

/** At most one of after (older than) and before (newer than). */
export interface ListRequest {
  size: number;
  after?: ListBound;
  before?: ListBound;
}

export interface ListPage {
  /** Newest first. */
  rows: AccountRow[];
  /** Where the page of newer accounts ends (its `before`), or null when none are newer. */
  newer: ListBound | null;
  /** Where the page of older accounts starts (its `after`), or null when none are older. */
  older: ListBound | null;
}

/**
 * The right to apply the projection, held by one process at a time among all that share the read
 * model: every instance reads from the read model, exactly one writes to it. It passes to another
 * process when released, or when its holder dies.
 */
export interface ProjectionLease {
  /** Aborted when the lease is lost without release() (the connection that held it broke): its holder must stop applying. */
  readonly lost: AbortSignal;
  /** Gives the lease up; another process may take it at once. */
  release(): Promise<void>;
}

/** A commit under a lease that is no longer held: nothing was written. */
export class ProjectionLeaseLost extends Error {
  constructor() {
    super('The projection lease was lost: another process may be applying the projection now');
    this.name = 'ProjectionLeaseLost';
  }
}

export abstract class AccountReadModel {
  /** The global position of the last event applied (START before the first). */
  abstract checkpoint(): Promise<Position>;
  abstract get(tenant: Tenant, id: string): Promise<AccountRow | null>;
  /** The rows of those ids that exist, in no particular order. */
  abstract getMany(ids: string[]): Promise<AccountRow[]>;
  /** One page of the tenant's accounts and its neighbours, read from one snapshot; indexed, so its cost does not grow with the tenant. */
  abstract list(tenant: Tenant, filter: AccountFilter, request: ListRequest): Promise<ListPage>;
  /**
   * Writes the rows and moves the checkpoint from `from` to `to` in one transaction. Returns false,
   * writing nothing, when the checkpoint is no longer `from` (another process applied the batch).
   * Under a `lease` (this read model's), it commits only while the lease is held, and otherwise
   * throws ProjectionLeaseLost: a holder that lost its lease cannot write after the next one started.
   */
  abstract commit(rows: AccountRow[], from: Position, to: Position, lease?: ProjectionLease): Promise<boolean>;
  /** The projection lease if no process holds it, else null. Never waits for it. */
  abstract tryAcquireProjectionLease(): Promise<ProjectionLease | null>;
  /** Up to `limit` account ids after `after` (exclusive), in id order: for checks that walk every row. */
  abstract ids(after: string | null, limit: number): Promise<string[]>;
  /** Removes every row and the checkpoint in one transaction, so the projection starts over from the first event. */
  abstract reset(): Promise<void>;
  abstract close(): Promise<void>;
}
