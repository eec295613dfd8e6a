import { accountDocument } from '../../src/accounts/http/account.serializer';
import { AccountRowCodec } from '../../src/accounts/projection/account-row-codec';
import { loadOrCreateMasterKeyFile } from '../../src/crypto/master-key';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage';

/**
 * Every row of the account read model as the API would serialise it, with its revision: the same
 * shape as freshFolds, so the two compare with one toEqual. Reads the files, not a running app, so
 * nothing catches the projection up before the comparison.
 */
export async function readModelDocuments(dataDir: string) {
  const storage = new SqliteStorage(dataDir);
  const rows = new AccountRowCodec(new PersonalDataCipher(loadOrCreateMasterKeyFile(dataDir), storage.dataKeys));
  const ids = storage.state.prepare('SELECT id FROM accounts').pluck().all() as string[];
  const documents = new Map<string, { body: unknown; revision: bigint }>();
  for (const row of await storage.readModel.getMany(ids)) documents.set(row.id, { body: accountDocument(await rows.toAccount(row)), revision: row.revision });
  await storage.close();
  return documents;
}
