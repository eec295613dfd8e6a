import { Command, InvalidArgumentError } from 'commander';
import { isEnvironment, isScope, Scope, SCOPES } from '../auth/api-key';
import { createKeyAdministration } from '../composition-root';
import { ENVIRONMENTS } from '../kernel/tenant';
import { openStorage } from '../storage/open-storage';
import { CliContext } from './cli-context';
import { CliUsageError } from './cli-io';
import { registerRotateMasterCommand } from './rotate-master-command';

/**
 * An option given at most once. commander keeps the last of repeated options; a key made for the
 * wrong organization or with the wrong scopes must never come of a typo, so a repeat is refused.
 */
function once<T>(parse: (value: string) => T) {
  return (value: string, previous: T | undefined): T => {
    if (previous !== undefined) throw new InvalidArgumentError('it is given twice');
    return parse(value);
  };
}

const ORGANIZATION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function parseOrganization(value: string): string {
  if (!ORGANIZATION.test(value)) throw new InvalidArgumentError('an organization is 1-64 letters, digits, _ . - (starting with a letter or digit)');
  return value;
}

function parseEnvironment(value: string): string {
  if (!isEnvironment(value)) throw new InvalidArgumentError(`it must be ${ENVIRONMENTS.join(' or ')}`);
  return value;
}

function parseScopes(value: string): Scope[] {
  const scopes = [...new Set(value.split(',').map((scope) => scope.trim()).filter(Boolean))];
  if (scopes.length === 0) throw new InvalidArgumentError(`it needs at least one of ${SCOPES.join(', ')}`);
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length) throw new InvalidArgumentError(`unknown scope(s): ${unknown.join(', ')}; known: ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

export function registerKeyCommands(program: Command, context: CliContext): void {
  const keys = program.command('keys').description('issue, list and revoke API keys (only their hashes are stored); rotate the master key');

  keys
    .command('create')
    .description('create an API key and print it, once')
    .requiredOption('--org <organization>', 'the organization the key belongs to', once(parseOrganization))
    .requiredOption('--env <environment>', `the environment: ${ENVIRONMENTS.join(' or ')}`, once(parseEnvironment))
    .option('--scopes <list>', `comma-separated, of ${SCOPES.join(', ')} (default: all)`, once(parseScopes))
    .action(async (options: { org: string; env: 'production' | 'staging'; scopes?: Scope[] }) => {
      const administration = await openKeys(context, 'read-write');
      try {
        const { key, record } = await administration.apiKeys.create(options.org, options.env, options.scopes ?? [...SCOPES]);
        context.io.out(`Created ${record.id} for ${options.org}/${options.env} with scopes ${record.scopes.join(',')}.`);
        context.io.out('The key is shown only now; store it safely:');
        context.io.out(key);
      } finally {
        await administration.close();
      }
    });

  keys
    .command('list')
    .description('list every key: id, organization, environment, scopes, hint, created, state (never a key or its hash)')
    .action(async () => {
      const administration = await openKeys(context, 'read-only');
      try {
        const records = await administration.apiKeys.list();
        if (records.length === 0) return context.io.out('No keys.');
        for (const r of records) {
          context.io.out(
            [r.id, r.tenant.organization_id, r.tenant.environment, r.scopes.join(','), `${r.hint}...`, r.created_at, r.revoked_at ? `revoked ${r.revoked_at}` : 'active'].join('\t'),
          );
        }
      } finally {
        await administration.close();
      }
    });

  keys
    .command('revoke')
    .description('revoke a key at once')
    .argument('<key-id>', 'the key id (key_…), as keys list shows it')
    .action(async (id: string) => {
      const administration = await openKeys(context, 'read-write', { mustExist: true });
      try {
        if (!(await administration.apiKeys.revoke(id))) throw new CliUsageError(`no active key with id ${id}`);
        context.io.out(`Revoked ${id}.`);
      } finally {
        await administration.close();
      }
    });

  registerRotateMasterCommand(keys, context);
}

/** Only the key store: managing keys needs no master key, so none is read and none is ever made here. */
async function openKeys(context: CliContext, access: 'read-write' | 'read-only', options: { mustExist?: boolean } = {}) {
  const config = context.config();
  context.opening(config, access);
  return context.open(async () => {
    // A write that only makes sense on existing keys must not create a store in a mistyped DATA_DIR.
    if (options.mustExist) await (await openStorage(config, 'read-only', ['apiKeyStore'])).close();
    return createKeyAdministration(config, { access });
  });
}
