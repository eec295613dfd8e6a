import { accountDocument } from '../../src/accounts/http/account.serializer';
import { openServices } from './services';

/**
 * Every row of the account read model as the API would serialise it, with its revision: the same
 * shape as freshFolds, so the two compare with one toEqual. Reads the stores, not a running app, so
 * nothing catches the projection up before the comparison.
 */
export async function readModelDocuments(dataDir: string) {
  const services = await openServices(dataDir, { access: 'read-only' });
  try {
    const documents = new Map<string, { body: unknown; revision: bigint }>();
    for (let ids = await services.readModel.ids(null, 500); ids.length; ids = await services.readModel.ids(ids.at(-1)!, 500)) {
      for (const row of await services.readModel.getMany(ids)) {
        documents.set(row.id, { body: accountDocument(await services.rowCodec.toAccount(row)), revision: row.revision });
      }
    }
    return documents;
  } finally {
    await services.close();
  }
}
