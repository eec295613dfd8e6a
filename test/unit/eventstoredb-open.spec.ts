// Opening the EventStoreDB store fails fast, in one line that names the variable to fix and the
// hosts, never a password. Port 1 on the loopback refuses connections, so no server is needed.
import { EventStoreDbUnavailable, openEventStoreDbEventStore } from '../../src/storage/eventstoredb/eventstoredb-event-store';

const PASSWORD = 's3cret-Pa55';

describe('openEventStoreDbEventStore', () => {
  it('refuses a malformed connection string without repeating it', async () => {
    const error = await openEventStoreDbEventStore(`esdb://admin:${PASSWORD}@localhost:not-a-port?tls=false`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStoreDbUnavailable);
    expect((error as Error).message).toBe('EVENTSTORE_CONNECTION_STRING is not an EventStoreDB connection string (like esdb://localhost:2113?tls=false)');
  });

  it('fails within its deadline when no server answers, naming the variable and the host, not the password', async () => {
    const started = Date.now();
    const error = await openEventStoreDbEventStore(`esdb://admin:${PASSWORD}@127.0.0.1:1?tls=false`, { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(4500);
    expect(error).toBeInstanceOf(EventStoreDbUnavailable);
    const message = (error as Error).message;
    expect(message).toMatch(/^EventStoreDB at EVENTSTORE_CONNECTION_STRING \(127\.0\.0\.1:1\) cannot be used: (unavailable|no answer within 3000 ms)$/);
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain('\n');
  });
});
