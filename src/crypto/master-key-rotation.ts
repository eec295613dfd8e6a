import { DataKeyStore, Rewrap } from './data-key-store.port';
import { dataKeyWrappingKey, tryUnwrapDataKey, wrapDataKey } from './data-key-wrapping';
import { DEPLOYMENT_KEY_PURPOSES, loadDeploymentKeys, tryUnwrapDeploymentKey, wrapDeploymentKey } from './deployment-keys';
import { masterKeyCheckValue, ROTATION_MARK } from './master-key';

export interface RotationProgress {
  /** Keys looked at so far, out of about `total` (keys are created and destroyed meanwhile). */
  examined: number;
  total: number;
  /** Keys moved from the old master key to the new one so far. */
  rewrapped: number;
}

export interface RotationReport {
  examined: number;
  rewrapped: number;
  /** Found under the new master key already: re-wrapped by an earlier, interrupted run. */
  alreadyRewrapped: number;
  /** Destroyed (redacted) while the rotation ran: nothing to re-wrap. */
  destroyedMeanwhile: number;
}

export interface RotationOptions {
  /** Keys read per page. */
  batchSize?: number;
  /** Called after each page; a progress bar, say. If it throws, the rotation stops there (it can be resumed). */
  onProgress?: (progress: RotationProgress) => void | Promise<void>;
}

/** The rotation cannot start or finish; nothing it has not done yet is changed. */
export class MasterKeyRotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyRotationError';
  }
}

const rotationMark = (from: string, to: string) => `${ROTATION_MARK}${from}:${to}`;

/**
 * Re-wraps every data key under a new master key. Once it has finished and the old master key is
 * destroyed, every copy of a wrapped key that outlived its deletion (in WAL, backups, replicas, free
 * space) is undecryptable: that is what makes erasure final on stores that keep history.
 *
 * The deployment's own keys (the audit key, the reservation-naming key: deployment-keys.ts) are
 * re-wrapped too, never changed: seals made before the rotation still verify, and every external_id
 * keeps its reservation stream. A store that does not hold them yet gets them, derived from the old
 * master key as they always were, before anything else changes.
 *
 * Resumable: the store's master-key check value first becomes a rotation mark naming both keys,
 * then every key is re-wrapped by compare-and-set (a page of keys per transaction), and only then
 * does the check value become the new key's. Each key is at every moment under exactly one of the
 * two master keys, and which one is told by trying to unwrap it (GCM authenticates). A run that is
 * interrupted leaves the mark, under which the service refuses to start with either key
 * (verifyMasterKey); running it again with the same two keys skips the keys already moved and
 * finishes. Run with every service instance stopped:
 * an instance still running holds the old key and cannot read keys already moved. A run after the
 * rotation finished moves any key still found under the old key and changes nothing else.
 */
export async function rotateMasterKey(
  keys: DataKeyStore,
  oldMasterKey: Buffer,
  newMasterKey: Buffer,
  options: RotationOptions = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 500;
  const oldCheck = masterKeyCheckValue(oldMasterKey);
  const newCheck = masterKeyCheckValue(newMasterKey);
  if (oldCheck === newCheck) throw new MasterKeyRotationError('The new master key is the old one');
  const mark = rotationMark(oldCheck, newCheck);

  const stored = await keys.masterKeyCheck();
  const finished = stored === newCheck;
  if (!finished && stored !== mark) {
    if (stored?.startsWith(ROTATION_MARK)) {
      throw new MasterKeyRotationError('Another rotation, between other master keys, is unfinished: run it again with its own two keys first');
    }
    if (stored !== null && stored !== oldCheck) throw new MasterKeyRotationError('The old master key is not the one the data keys are wrapped with');
    // From the old key, while it is still the only one: after the switch they could no longer be derived.
    await loadDeploymentKeys(oldMasterKey, keys, { store: true });
    if (!(await keys.replaceMasterKeyCheck(stored, mark))) throw new MasterKeyRotationError('The master-key check value changed meanwhile: is another rotation running?');
  }

  for (const purpose of DEPLOYMENT_KEY_PURPOSES) await rewrapDeploymentKey(keys, purpose, oldMasterKey, newMasterKey);

  const oldWrapping = dataKeyWrappingKey(oldMasterKey);
  const newWrapping = dataKeyWrappingKey(newMasterKey);
  const report: RotationReport = { examined: 0, rewrapped: 0, alreadyRewrapped: 0, destroyedMeanwhile: 0 };
  const total = await keys.count();
  let after = '';
  for (;;) {
    const page = await keys.listWrapped(after, batchSize);
    if (page.length === 0) break;
    // Keys still to move, with the wrapped value they were last seen with.
    const pending = new Map(page.map(({ accountId, wrappedKey }) => [accountId, wrappedKey]));
    report.examined += page.length;
    while (pending.size > 0) {
      const changes: Rewrap[] = [];
      for (const [accountId, current] of pending) {
        const underNew = tryUnwrapDataKey(newWrapping, accountId, current);
        if (underNew) {
          underNew.fill(0);
          report.alreadyRewrapped += 1;
          pending.delete(accountId);
          continue;
        }
        const dataKey = tryUnwrapDataKey(oldWrapping, accountId, current);
        if (!dataKey) {
          throw new MasterKeyRotationError(`The data key of account ${accountId} opens with neither master key; the rotation stopped before switching`);
        }
        changes.push({ accountId, current, replacement: wrapDataKey(newWrapping, accountId, dataKey) });
        dataKey.fill(0);
      }
      const moved = new Set(await keys.rewrap(changes));
      for (const { accountId } of changes) {
        if (moved.has(accountId)) {
          report.rewrapped += 1;
          pending.delete(accountId);
          continue;
        }
        // Destroyed or changed since it was listed: look again.
        const current = await keys.get(accountId);
        if (current) pending.set(accountId, current);
        else {
          report.destroyedMeanwhile += 1;
          pending.delete(accountId);
        }
      }
    }
    after = page.at(-1)!.accountId;
    await options.onProgress?.({ examined: report.examined, total, rewrapped: report.rewrapped });
  }

  if (!finished && !(await keys.replaceMasterKeyCheck(mark, newCheck))) {
    throw new MasterKeyRotationError('The master-key check value changed meanwhile: is another rotation running?');
  }
  return report;
}

/** Moves one deployment key from the old master key to the new one, by compare-and-set, as a data key. */
async function rewrapDeploymentKey(keys: DataKeyStore, purpose: string, oldMasterKey: Buffer, newMasterKey: Buffer): Promise<void> {
  for (;;) {
    const current = await keys.deploymentKey(purpose);
    if (!current) throw new MasterKeyRotationError(`The ${purpose} key is missing from the data-key store; the rotation stopped before switching`);
    const underNew = tryUnwrapDeploymentKey(newMasterKey, purpose, current);
    if (underNew) return void underNew.fill(0);
    const key = tryUnwrapDeploymentKey(oldMasterKey, purpose, current);
    if (!key) throw new MasterKeyRotationError(`The ${purpose} key opens with neither master key; the rotation stopped before switching`);
    const moved = await keys.replaceDeploymentKey(purpose, current, wrapDeploymentKey(newMasterKey, purpose, key));
    key.fill(0);
    if (moved) return;
  }
}
