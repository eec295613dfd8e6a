import { ACCOUNT_STREAM_PREFIX } from '../../src/accounts/application/account-repository';
import { accountDocument } from '../../src/accounts/http/account.serializer';
import { START } from '../../src/storage/event-store.port';
import { openServices } from './services';

/** Every account's stream folded afresh, as the API would serialise it, with its head revision. `env`: the stores' variables (EVENT_STORE, DATABASE_URL...). */
export async function freshFolds(dataDir: string, only?: string[], env?: Record<string, string>) {
  const services = await openServices(dataDir, { access: 'read-only', env });
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
