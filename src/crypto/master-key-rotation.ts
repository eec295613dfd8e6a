import { DataKeyStore } from './data-key-store.port';
import { dataKeyWrappingKey, tryUnwrapDataKey, wrapDataKey } from './data-key-wrapping';
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
 * Resumable: the store's master-key check value first becomes a rotation mark naming both keys,
 * then every key is re-wrapped by compare-and-set, and only then does the check value become the
 * new key's. Each key is at every moment under exactly one of the two master keys, and which one is
 * told by trying to unwrap it (GCM authenticates). A run that is interrupted leaves the mark, under
 * which the service refuses to start with either key (verifyMasterKey); running it again with the
 * same two keys skips the keys already moved and finishes. Run with every service instance stopped:
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
    if (!(await keys.replaceMasterKeyCheck(stored, mark))) throw new MasterKeyRotationError('The master-key check value changed meanwhile: is another rotation running?');
  }

  const oldWrapping = dataKeyWrappingKey(oldMasterKey);
  const newWrapping = dataKeyWrappingKey(newMasterKey);
  const report: RotationReport = { examined: 0, rewrapped: 0, alreadyRewrapped: 0, destroyedMeanwhile: 0 };
  const total = await keys.count();
  let after = '';
  for (;;) {
    const page = await keys.listWrapped(after, batchSize);
    if (page.length === 0) break;
    for (const { accountId, wrappedKey } of page) {
      report.examined += 1;
      let current: Buffer | null = wrappedKey;
      while (current) {
        const underNew = tryUnwrapDataKey(newWrapping, accountId, current);
        if (underNew) {
          underNew.fill(0);
          report.alreadyRewrapped += 1;
          break;
        }
        const dataKey = tryUnwrapDataKey(oldWrapping, accountId, current);
        if (!dataKey) {
          throw new MasterKeyRotationError(`The data key of account ${accountId} opens with neither master key; the rotation stopped before switching`);
        }
        const moved = await keys.rewrap(accountId, current, wrapDataKey(newWrapping, accountId, dataKey));
        dataKey.fill(0);
        if (moved) {
          report.rewrapped += 1;
          break;
        }
        // Destroyed or changed since it was listed: look again.
        current = await keys.get(accountId);
        if (!current) report.destroyedMeanwhile += 1;
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
