import { Injectable, OnModuleInit } from '@nestjs/common';
import { CommandBus, ICommand } from '@nestjs/cqrs';
import { toJsonApiError } from '../http/to-jsonapi-error';
import { AppLogger } from '../logging/logger';
import { Metrics } from './metrics';

/**
 * Counts and times every command the bus runs, by command and outcome (`ok`, or the error code
 * the client is answered), and logs one debug line for each: its name, outcome, duration and the
 * account it wrote, never the command itself (it carries the attributes). The bus has no hook of
 * its own for outcomes, so its execute is wrapped once, here.
 */
@Injectable()
export class CommandMetrics implements OnModuleInit {
  constructor(
    private readonly bus: CommandBus,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit() {
    const execute = this.bus.execute.bind(this.bus) as (command: ICommand, context?: unknown) => Promise<unknown>;
    const observed = async (command: ICommand, context?: unknown) => {
      const name = command.constructor.name.replace(/Command$/, '');
      const started = process.hrtime.bigint();
      const done = (outcome: string, result?: unknown) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.observeCommand(name, outcome, seconds);
        const { accountId, revision } = (result ?? {}) as { accountId?: unknown; revision?: unknown };
        this.logger.debug(
          { command: name, outcome, duration_ms: Math.round(seconds * 1e6) / 1000, ...(typeof accountId === 'string' ? { account_id: accountId, revision: String(revision) } : {}) },
          'command',
        );
      };
      try {
        const result = await execute(command, context);
        done('ok', result);
        return result;
      } catch (error) {
        done(toJsonApiError(error).errors[0]?.code ?? 'error');
        throw error;
      }
    };
    Object.assign(this.bus, { execute: observed });
  }
}
