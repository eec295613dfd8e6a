import { describeDatabaseUrl } from '../../src/storage/postgres/postgres-pool';
import { PostgresStorage, PostgresUnavailable } from '../../src/storage/postgres/postgres-storage';

describe('PostgreSQL connection errors', () => {
  it('name the database without its password', () => {
    expect(describeDatabaseUrl('postgres://app:s3cret@db.example:5432/accounts?sslmode=require')).toBe('postgres://app:***@db.example:5432/accounts?sslmode=require');
    expect(describeDatabaseUrl('postgres://app@db.example/accounts')).toBe('postgres://app@db.example/accounts');
    expect(describeDatabaseUrl('host=db password=s3cret')).not.toContain('s3cret');
  });

  it('say which database could not be reached, never with its password', async () => {
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    const refused = await PostgresStorage.open('postgres://app:s3cret@127.0.0.1:1/accounts').catch((e) => e);
    expect(refused).toBeInstanceOf(PostgresUnavailable);
    expect(refused.message).toContain('postgres://app:***@127.0.0.1:1/accounts');
    expect(refused.message).toContain('DATABASE_URL');
    expect(refused.message).not.toContain('s3cret');
  });
});
