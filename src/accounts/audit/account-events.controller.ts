import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Request } from 'express';
import { CurrentActor, RequiresScope } from '../../auth/api-key.guard';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Actor } from '../../kernel/tenant';
import { BASE_PATH, collectionUrl, knownIdFormat } from '../http/accounts.controller';
import { ApiKeyedJsonApi } from '../../openapi/jsonapi-openapi';
import { accountEventsDocument } from './account-event.serializer';
import { AccountEventsDocs } from './account-events.openapi';
import { readAccountEventsQuery } from './audit-query';
import { AccountEventsView, GetAccountEventsQuery } from './get-account-events';

/** The audit reviewers' trail of one account. Time travel (as_of) is on the account's own route. */
@Controller(BASE_PATH)
@ApiKeyedJsonApi('audit')
export class AccountEventsController {
  constructor(
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':id/events')
  @AccountEventsDocs()
  @RequiresScope('audit:read')
  async events(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() request: Request) {
    const accountId = knownIdFormat(id);
    const query = readAccountEventsQuery(new URL(request.originalUrl, 'http://localhost').searchParams);
    const view = await this.queries.execute<GetAccountEventsQuery, AccountEventsView>(
      new GetAccountEventsQuery(actor.tenant, accountId, query.eventTypes, query.page),
    );
    return accountEventsDocument(view, query, `${collectionUrl(request, this.config)}/${accountId}/events`);
  }
}
