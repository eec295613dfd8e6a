import { Notification, Pool, PoolClient } from 'pg';
import { Position } from '../event-store.port';

/**
 * Every append notifies this channel when it commits, with its last position, so a subscription in
 * another instance (the one applying the projection) reads it at once rather than at its next poll.
 * Notifications only hasten what polling finds anyway: one that is lost costs a poll interval.
 */
export const APPENDED_CHANNEL = 'identity_accounts_appended';

const RECONNECT_MS = 1000;

/**
 * Calls `wake` with the position of each append any instance commits, while it runs: LISTEN on a
 * connection of its own, taken from the pool, and taken again a second after it breaks. stop()
 * closes that connection (a connection that listened is never handed back to the pool).
 */
export function listenForAppends(pool: Pool, wake: (position: Position) => void): { stop(): void } {
  let stopped = false;
  let listening: PoolClient | null = null;
  let retry: NodeJS.Timeout | undefined;
  const onNotification = (message: Notification) => {
    if (message.channel === APPENDED_CHANNEL && message.payload) wake(message.payload);
  };
  const again = () => {
    if (!stopped) retry = setTimeout(() => void connect(), RECONNECT_MS);
  };
  const close = (client: PoolClient, error?: Error) => {
    client.off('notification', onNotification);
    client.off('error', onBroken);
    client.release(error ?? true);
  };
  function onBroken(this: PoolClient, error: Error) {
    if (listening !== this) return;
    listening = null;
    close(this, error);
    again();
  }
  async function connect() {
    let client: PoolClient | null = null;
    try {
      client = await pool.connect();
      client.on('notification', onNotification);
      // A checked-out client has no pool listener: without this one, its 'error' would end the process.
      client.on('error', onBroken);
      await client.query(`LISTEN ${APPENDED_CHANNEL}`);
      if (stopped) return close(client);
      listening = client;
    } catch {
      if (client) close(client, new Error('LISTEN failed'));
      again();
    }
  }
  void connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      if (listening) close(listening);
      listening = null;
    },
  };
}
