import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { Actor } from '../../kernel/tenant';
import { Relationship } from '../domain/relationships';
import { AccountRepository } from './account-repository';
import { runAccountCommand, WriteResult } from './run-account-command';

/** POST (link) or DELETE (unlink) /accounts/{id}/relationships/{sessions|documents}. */
export class ChangeRelatedCommand {
  constructor(
    readonly actor: Actor,
    readonly accountId: string,
    readonly change: 'link' | 'unlink',
    readonly relationship: Relationship,
    readonly ids: string[],
    readonly ifMatch?: bigint,
  ) {}
}

@CommandHandler(ChangeRelatedCommand)
export class ChangeRelatedHandler implements ICommandHandler<ChangeRelatedCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly clock: Clock,
  ) {}

  execute({ actor, accountId, change, relationship, ids, ifMatch }: ChangeRelatedCommand): Promise<WriteResult> {
    return runAccountCommand(this.repository, {
      accountId,
      actor,
      ifMatch,
      command: () => ({ kind: change === 'link' ? 'LinkRelated' : 'UnlinkRelated', relationship, ids, now: toTimestamp(this.clock.now()) }),
    });
  }
}
