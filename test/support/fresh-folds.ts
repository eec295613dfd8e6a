import { AccountEventCodec } from '../../src/accounts/application/account-event-codec';
import { AccountRepository } from '../../src/accounts/application/account-repository';
import { accountDocument } from '../../src/accounts/http/account.serializer';
import { loadOrCreateMasterKeyFile } from '../../src/crypto/master-key';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { SystemClock } from '../../src/kernel/clock';
import { RandomIdFactory } from '../../src/kernel/ids';
import { START } from '../../src/storage/event-store.port';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage';

/** Every account's stream folded afresh, as the API would serialise it, with its head revision. */
export async function freshFolds(dataDir: string, only?: string[]) {
  const storage = new SqliteStorage(dataDir);
  const cipher = new PersonalDataCipher(loadOrCreateMasterKeyFile(dataDir), storage.dataKeys);
  const repository = new AccountRepository(storage.eventStore, new AccountEventCodec(cipher), new RandomIdFactory(), new SystemClock());
  const ids = only ?? new Set((await storage.eventStore.readAll(START, 1_000_000)).filter((e) => e.stream.startsWith('account-')).map((e) => e.stream.slice(8)));
  const folds = new Map<string, { body: unknown; revision: bigint }>();
  for (const id of ids) {
    const loaded = await repository.load(id);
    if (loaded.state) folds.set(id, { body: accountDocument(loaded.state), revision: loaded.revision as bigint });
  }
  await storage.close();
  return folds;
}

