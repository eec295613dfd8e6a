// Runs the account projection over DATA_DIR in its own process, so a test can kill -9 it mid-stream.
import { AccountEventCodec } from '../../src/accounts/application/account-event-codec';
import { AccountProjection } from '../../src/accounts/projection/account-projection';
import { AccountRowCodec } from '../../src/accounts/projection/account-row-codec';
import { loadOrCreateMasterKeyFile } from '../../src/crypto/master-key';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage';

async function main() {
  const dataDir = process.argv[2];
  const storage = new SqliteStorage(dataDir);
  const cipher = new PersonalDataCipher(loadOrCreateMasterKeyFile(dataDir), storage.dataKeys);
  const projection = new AccountProjection(storage.eventStore, storage.readModel, new AccountEventCodec(cipher), new AccountRowCodec(cipher), {
    batchSize: Number(process.argv[3] ?? 2),
    pollIntervalMs: 1000,
    onRedacted: (accountId) => cipher.shred(accountId),
  });
  process.stdout.write('started\n');
  await projection.catchUp();
  await storage.close();
  process.stdout.write('done\n');
}

void main();
