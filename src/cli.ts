import 'reflect-metadata';
import { resolve } from 'node:path';
import { isEnvironment, isScope, Scope, SCOPES } from './auth/api-key';
import { ApiKeys } from './auth/api-keys';
import { SystemClock } from './kernel/clock';
import { RandomIdFactory } from './kernel/ids';
import { openApiKeyStore } from './storage/open-storage';

const USAGE = `Usage: cli <command>

  keys create --org <organization> --env <production|staging> [--scopes a,b,...]
      Creates an API key and prints it once. Scopes: ${SCOPES.join(', ')} (default: all).
  keys list
      Lists keys (id, organization, environment, scopes, hint, created, revoked). Never the keys.
  keys revoke <key id>
      Revokes a key at once.

Environment: DATA_DIR (default ./data).`;

class UsageError extends Error {}

/**
 * `--name value` pairs, each of a known name and at most once. Anything else is refused rather than
 * ignored: a mistyped `--scope` or a `--scopes` without its value must not yield a key with every scope.
 */
function options(args: string[], known: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const name = flag.startsWith('--') ? flag.slice(2) : '';
    if (!known.includes(name)) throw new UsageError(`unexpected argument "${flag}"; expected ${known.map((k) => `--${k}`).join(', ')}`);
    if (found.has(name)) throw new UsageError(`${flag} is given twice`);
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    found.set(name, value);
  }
  return found;
}

function noMoreArguments(command: string, extra: string[]) {
  if (extra.length) throw new UsageError(`keys ${command}: unexpected argument "${extra[0]}"`);
}

async function keys(apiKeys: ApiKeys, [action, ...args]: string[], out: (line: string) => void): Promise<void> {
  switch (action) {
    case 'create': {
      const given = options(args, ['org', 'env', 'scopes']);
      const org = given.get('org');
      const env = given.get('env');
      const scopes = [...new Set((given.get('scopes') ?? SCOPES.join(',')).split(',').map((s) => s.trim()).filter(Boolean))];
      if (!org || !/^[A-Za-z0-9_.-]{1,64}$/.test(org)) throw new UsageError('--org is required: 1-64 letters, digits, _ . -');
      if (!env || !isEnvironment(env)) throw new UsageError('--env must be production or staging');
      if (scopes.length === 0) throw new UsageError(`--scopes needs at least one of ${SCOPES.join(', ')}`);
      const unknown = scopes.filter((s) => !isScope(s));
      if (unknown.length) throw new UsageError(`unknown scope(s): ${unknown.join(', ')}; known: ${SCOPES.join(', ')}`);
      const { key, record } = await apiKeys.create(org, env, scopes as Scope[]);
      out(`Created ${record.id} for ${org}/${env} with scopes ${record.scopes.join(',')}.`);
      out('The key is shown only now; store it safely:');
      out(key);
      return;
    }
    case 'list': {
      noMoreArguments('list', args);
      const records = await apiKeys.list();
      if (records.length === 0) return out('No keys.');
      for (const r of records) {
        out([r.id, r.tenant.organization_id, r.tenant.environment, r.scopes.join(','), `${r.hint}...`, r.created_at, r.revoked_at ? `revoked ${r.revoked_at}` : 'active'].join('\t'));
      }
      return;
    }
    case 'revoke': {
      const [id, ...extra] = args;
      if (!id) throw new UsageError('keys revoke needs a key id (see keys list)');
      noMoreArguments('revoke', extra);
      if (!(await apiKeys.revoke(id))) throw new UsageError(`no active key with id ${id}`);
      out(`Revoked ${id}.`);
      return;
    }
    default:
      throw new UsageError(`unknown keys command "${action ?? ''}"`);
  }
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  const storage = openApiKeyStore({ dataDir: resolve(env.DATA_DIR || './data'), eventStore: 'sqlite', readModel: 'sqlite' }, 'read-write');
  try {
    if (command !== 'keys') throw new UsageError(`unknown command "${command}"`);
    await keys(new ApiKeys(storage, new RandomIdFactory(), new SystemClock()), rest, out);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    out(`error: ${error.message}\n\n${USAGE}`);
    return 2;
  } finally {
    await storage.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env, (line) => process.stdout.write(line + '\n')).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
