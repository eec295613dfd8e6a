import { createHash } from 'node:crypto';

/**
 * Each event's metadata carries `prev_hash`, the hash of its predecessor as stored (ciphertext
 * included), so the chain stays verifiable after redaction and any tampering breaks it.
 */
export function hashOfStoredEvent(event: { type: string; data: unknown; metadata: unknown }): string {
  return createHash('sha256').update(JSON.stringify([event.type, event.data, event.metadata])).digest('hex');
}
