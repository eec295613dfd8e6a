// Two instances of the service's projection on one read model (here: two composition roots on one
// DATA_DIR, in one process, which SQLite's locks treat as two processes): exactly one applies events,
// the other's reads wait on the shared checkpoint, and it takes over when the first stops.
import { CreateAccountCommand, CreateAccountHandler } from '../../src/accounts/application/create-account';
import { Services } from '../../src/composition-root';
import { createRootLogger } from '../../src/logging/logger';
import { removeDir, tempDataDir } from '../support/app-harness';
import { openServices } from '../support/services';

const TENANT = { organization_id: 'acme', environment: 'staging' as const };

describe('The projection lease between two instances', () => {
  let dataDir: string;
  let instances: Services[];
  const leaseChanges: string[][] = [[], []];

  beforeEach(async () => {
    dataDir = tempDataDir();
    leaseChanges.forEach((changes) => changes.splice(0));
    instances = [];
    for (const changes of leaseChanges) {
      // What the service logs when its projection takes or gives up the lease.
      const logger = createRootLogger('info', (line) => {
        const lease = /^projection lease (\w+)$/.exec(JSON.parse(line).message);
        if (lease) changes.push(lease[1]);
      });
      instances.push(await openServices(dataDir, { logger }));
    }
  });
  afterEach(async () => {
    for (const services of instances) {
      await services.projection.stop();
      await services.close();
    }
    removeDir(dataDir);
  });

  const create = (services: Services, externalId: string) =>
    new CreateAccountHandler(services.repository, services.reservations, services.ids, services.clock).execute(
      new CreateAccountCommand({ tenant: TENANT, api_key_id: 'key_test', request_id: 'req_test', correlation_id: 'req_test' }, { entity_type: 'person', external_id: externalId }),
    );
  const commits = (services: Services) => jest.spyOn(services.readModel, 'commit');

  it('applies events in the instance holding the lease only; the other reads them once the holder has', async () => {
    const [leader, follower] = instances;
    const leaderCommits = commits(leader);
    const followerCommits = commits(follower);
    leader.projection.start();
    follower.projection.start();

    for (let i = 0; i < 5; i++) {
      const written = await create(follower, `follower-${i}`);
      await follower.projection.waitFor(written.position);
      expect(await follower.readModel.get(TENANT, written.accountId)).toMatchObject({ external_id: `follower-${i}` });
    }
    expect(leaderCommits).toHaveBeenCalled();
    expect(followerCommits).not.toHaveBeenCalled();
    expect(leaseChanges).toEqual([['acquired'], []]);
  });

  it('passes the lease on when its holder stops, and the next holder goes on from the shared checkpoint', async () => {
    const [leader, follower] = instances;
    leader.projection.start();
    const first = await create(leader, 'before');
    await leader.projection.waitFor(first.position);
    follower.projection.start();
    await leader.projection.stop();
    expect(leaseChanges[0]).toEqual(['acquired', 'released']);

    const followerCommits = commits(follower);
    const second = await create(follower, 'after');
    await follower.projection.waitFor(second.position);
    expect(leaseChanges[1]).toEqual(['acquired']);
    expect(followerCommits).toHaveBeenCalled();
    for (const { accountId, revision } of [first, second]) expect((await follower.readModel.get(TENANT, accountId))!.revision).toBe(revision);
  });

  it('lets a read on an instance that does not follow take the lease for as long as it waits, when no one holds it', async () => {
    const [writer, reader] = instances;
    const written = await create(writer, 'on-demand');
    await reader.projection.waitForHead();
    expect(await reader.readModel.get(TENANT, written.accountId)).toMatchObject({ external_id: 'on-demand' });
    expect(leaseChanges).toEqual([[], ['acquired', 'released']]);
  });
});
