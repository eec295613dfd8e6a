import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { fromServices } from '../../nest-services';
import { AccountEventsController } from './account-events.controller';
import { AccountHistory } from './account-history';
import { GetAccountAsOfHandler } from './get-account-as-of';
import { GetAccountEventsHandler } from './get-account-events';

/** The audit reviewers' slice: an account's event trail and its time travel (as_of), read from its stream. */
@Module({
  imports: [CqrsModule],
  controllers: [AccountEventsController],
  providers: [fromServices(AccountHistory, (s) => s.history), GetAccountEventsHandler, GetAccountAsOfHandler],
})
export class AccountAuditModule {}
