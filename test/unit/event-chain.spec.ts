import { randomBytes, randomUUID } from 'node:crypto';
import { contentHash, EventChain, hashOfStoredEvent } from '../../src/accounts/application/event-chain';
import { deriveAuditKey } from '../../src/crypto/deployment-keys';
import { deriveSubkey } from '../../src/crypto/master-key';
import { NO_STREAM } from '../../src/storage/event-store.port';

const masterKey = randomBytes(32);
const chain = new EventChain(deriveAuditKey(masterKey));
const event = (type: string) => ({ id: randomUUID(), type, data: { value: type }, metadata: { schema_version: 2, request_id: 'req_1' } });

describe('The event chain and its seals', () => {
  const [first, second] = chain.extend('account-x', { revision: NO_STREAM, hash: null }, [event('a'), event('b')]);
  const recorded = (e: typeof first, stream: string, revision: bigint) => ({ ...e, stream, revision });

  it('links each event to its predecessor and seals it at its revision', () => {
    expect(first.metadata.prev_hash).toBeNull();
    expect(second.metadata.prev_hash).toBe(hashOfStoredEvent(first));
    expect(first.metadata.seal).toMatch(/^v1\.[0-9a-f]{64}$/);
    expect(chain.checkSeal(recorded(first, 'account-x', 0n))).toBe('valid');
    expect(chain.checkSeal(recorded(second, 'account-x', 1n))).toBe('valid');
    // Continuing a stream: revisions and the chain go on from its head.
    const [third] = chain.extend('account-x', { revision: 1n, hash: hashOfStoredEvent(second) }, [event('c')]);
    expect(third.metadata.prev_hash).toBe(hashOfStoredEvent(second));
    expect(chain.checkSeal(recorded(third, 'account-x', 2n))).toBe('valid');
  });

  it('no longer holds when the event is moved to another revision or stream, or its content changes', () => {
    expect(chain.checkSeal(recorded(first, 'account-x', 1n))).toBe('invalid');
    expect(chain.checkSeal(recorded(first, 'account-y', 0n))).toBe('invalid');
    expect(chain.checkSeal(recorded({ ...first, data: { value: 'z' } }, 'account-x', 0n))).toBe('invalid');
    expect(chain.checkSeal(recorded({ ...first, metadata: { ...first.metadata, prev_hash: 'f'.repeat(64) } }, 'account-x', 0n))).toBe('invalid');
    expect(chain.checkSeal(recorded({ ...first, metadata: { ...first.metadata, seal: 42 } }, 'account-x', 0n))).toBe('invalid');
    const { seal: _seal, ...unsealed } = first.metadata;
    expect(chain.checkSeal(recorded({ ...first, metadata: unsealed }, 'account-x', 0n))).toBe('unsealed');
  });

  it('needs the audit key: another key neither makes nor accepts the same seals', () => {
    const other = new EventChain(randomBytes(32));
    expect(other.checkSeal(recorded(first, 'account-x', 0n))).toBe('invalid');
    expect(other.sealOf('account-x', 0n, first)).not.toBe(first.metadata.seal);
  });

  it('covers the content, not the seal itself; the audit key is its own (HKDF), unlike any other derived key', () => {
    expect(contentHash(first)).toBe(contentHash({ ...first, metadata: { ...first.metadata, seal: 'anything' } }));
    const auditKey = deriveAuditKey(masterKey);
    expect(auditKey).toHaveLength(32);
    for (const purpose of ['data-key-wrapping', 'external-id-reservation', 'master-key-check', 'audit-seal']) expect(auditKey.equals(deriveSubkey(masterKey, purpose))).toBe(false);
    expect(auditKey.equals(masterKey)).toBe(false);
  });
});
