import { ACCOUNT_STREAM_PREFIX } from '../../src/accounts/application/account-repository';
import { accountDocument } from '../../src/accounts/http/account.serializer';
import { START } from '../../src/storage/event-store.port';
import { openServices } from './services';

/** Every account's stream folded afresh, as the API would serialise it, with its head revision. */
export async function freshFolds(dataDir: string, only?: string[]) {
  const services = await openServices(dataDir, { access: 'read-only' });
  try {
    const streams = (await services.eventStore.readAll(START, 1_000_000)).map((e) => e.stream).filter((s) => s.startsWith(ACCOUNT_STREAM_PREFIX));
    const ids = only ?? new Set(streams.map((s) => s.slice(ACCOUNT_STREAM_PREFIX.length)));
    const folds = new Map<string, { body: unknown; revision: bigint }>();
    for (const id of ids) {
      const loaded = await services.repository.load(id);
      if (loaded.state) folds.set(id, { body: accountDocument(loaded.state), revision: loaded.revision as bigint });
    }
    return folds;
  } finally {
    await services.close();
  }
}
