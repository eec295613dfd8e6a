import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { AppConfig } from '../config/app-config';
import { generateMasterKeyFile, MASTER_KEY_FILE, MasterKeyMismatch, parseMasterKey, readMasterKeyFile, replaceMasterKeyFile } from '../crypto/master-key';
import { MasterKeyRotationError, RotationReport, rotateMasterKey } from '../crypto/master-key-rotation';
import { openStorage } from '../storage/open-storage';
import { CliContext } from './cli-context';
import { CliFailure, CliUsageError, progressBar } from './cli-io';

interface RotateOptions {
  newKeyFile: string;
  generate?: boolean;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * `keys rotate-master`: rotateMasterKey on the configured data-key store, from the configured master
 * key (ACCOUNTS_MASTER_KEY, else DATA_DIR/master.key) to the one in --new-key-file. Resumable: run
 * it again with the same file after an interruption. A key is never printed.
 */
export function registerRotateMasterCommand(keys: Command, context: CliContext): void {
  keys
    .command('rotate-master')
    .description(
      're-wrap every data key from the configured master key (ACCOUNTS_MASTER_KEY, else DATA_DIR/master.key, which it then replaces) to a new one. ' +
        'Stop every instance of the service first. Resumable: run it again with the same --new-key-file. ' +
        'Once the old master key is destroyed, every old copy of a wrapped key (WAL, backups, replicas) is undecryptable',
    )
    .requiredOption('--new-key-file <path>', 'the new master key: a file holding 64 hex characters')
    .option('--generate', 'make a new random key into --new-key-file first (a file that must not exist yet; owner-only)')
    .action(async (options: RotateOptions) => {
      const config = context.config();
      context.opening(config, 'read-write');
      // Never a new, empty store in a mistyped DATA_DIR or an unmigrated database.
      await (await context.open(() => openStorage(config, 'read-only', ['dataKeys']))).close();
      const oldKey = await context.open(() => config.masterKey ?? readMasterKeyFile(config.dataDir));
      // Only now, so that a refusal above leaves no new key file behind.
      const newKey = newMasterKey(options);
      if (oldKey.equals(newKey)) {
        throw new CliUsageError(`The configured master key (${masterKeySource(config)}) is the one in ${options.newKeyFile} already: nothing to rotate`);
      }
      const storage = await context.open(() => openStorage(config, 'read-write', ['dataKeys']));
      const bar = progressBar(context.io, 'rotate-master', 'keys');
      let report: RotationReport;
      try {
        report = await rotateMasterKey(storage.dataKeys, oldKey, newKey, { onProgress: ({ examined, total }) => bar.update(examined, Math.max(total, examined)) });
      } catch (error) {
        if (error instanceof MasterKeyRotationError || error instanceof MasterKeyMismatch) throw new CliFailure(error.message);
        throw error;
      } finally {
        bar.stop();
        await storage.close();
      }
      const { rewrapped, alreadyRewrapped, destroyedMeanwhile } = report;
      context.io.out(
        `Re-wrapped ${plural(rewrapped, 'data key')} under the new master key` +
          (alreadyRewrapped ? ` (${alreadyRewrapped} already were)` : '') +
          (destroyedMeanwhile ? `; ${destroyedMeanwhile} destroyed meanwhile` : '') +
          '. The deployment keys (audit seals, external-id names) were re-wrapped too, unchanged.',
      );
      if (config.masterKey) {
        context.io.out(`Now set ACCOUNTS_MASTER_KEY to the key in ${options.newKeyFile} for every instance, and start them.`);
      } else {
        replaceMasterKeyFile(config.dataDir, newKey);
        context.io.out(`${join(config.dataDir, MASTER_KEY_FILE)} now holds the new key: start the service.`);
      }
      context.io.out(
        'Then destroy the old master key wherever it is kept (secret store, backups): only then are the old copies of wrapped keys undecryptable. ' +
          `Keep ${options.newKeyFile} as safe as the key it now is, or remove it.`,
      );
    });
}

function masterKeySource(config: AppConfig): string {
  return config.masterKey ? 'ACCOUNTS_MASTER_KEY' : join(config.dataDir, MASTER_KEY_FILE);
}

function newMasterKey(options: RotateOptions): Buffer {
  const file = options.newKeyFile;
  if (options.generate) {
    if (existsSync(file)) throw new CliUsageError(`${file} exists already: to use the key in it (to resume a rotation, say), leave out --generate`);
    try {
      return generateMasterKeyFile(file);
    } catch (error) {
      throw new CliUsageError(`Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliUsageError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file (--generate makes one)' : (code ?? String(error))}`);
  }
  const key = parseMasterKey(text);
  if (!key) throw new CliUsageError(`${file} does not hold a 256-bit key (64 hex characters)`);
  return key;
}
