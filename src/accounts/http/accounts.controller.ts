import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Patch, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CurrentActor, requireScope, RequiresScope } from '../../auth/api-key.guard';
import { Clock, toTimestamp } from '../../kernel/clock';
import { ACCOUNT_ID_PATTERN } from '../../kernel/ids';
import { Actor } from '../../kernel/tenant';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { publicBaseUrl } from '../../http/public-url';
import { IdempotentPost, idempotentExecution } from '../../idempotency/idempotency.interceptor';
import { ChangeStatusCommand } from '../application/change-status';
import { CreateAccountCommand, RecordedAccountId } from '../application/create-account';
import { AccountView, GetAccountQuery } from '../application/get-account';
import { AccountListView, ListAccountsQuery } from '../application/list-accounts';
import { RedactAccountCommand } from '../application/redact-account';
import { WriteResult } from '../application/run-account-command';
import { UpdateAccountCommand } from '../application/update-account';
import { AccountNotFound } from '../domain/rules';
import { AccountAt } from '../audit/account-history';
import { accountAsOfDocument } from '../audit/account-event.serializer';
import { AS_OF, readAsOf } from '../audit/audit-query';
import { GetAccountAsOfQuery } from '../audit/get-account-as-of';
import { readCreateDocument, readUpdateDocument } from './account-document';
import { accountDocument, etagOf, readIfMatch } from './account.serializer';
import { ChangeStatusDocs, CreateAccountDocs, GetAccountDocs, ListAccountsDocs, RedactAccountDocs, UpdateAccountDocs } from './accounts.openapi';
import { ApiKeyedJsonApi } from '../../openapi/jsonapi-openapi';
import { listDocument, readListQuery } from './list-query';
import { readStatusChangeDocument } from './status-change-document';

export const BASE_PATH = '/v1/identity/accounts';

/** Thin: read the document, dispatch the command, answer with the account as the write left it. */
@Controller(BASE_PATH)
@ApiKeyedJsonApi('accounts')
export class AccountsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @IdempotentPost()
  @CreateAccountDocs()
  @HttpCode(201)
  @RequiresScope('accounts:write')
  async create(@Body() body: unknown, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const attributes = readCreateDocument(body, this.today());
    // With Idempotency-Key, the new account's id is recorded with the key before the account is written.
    const execution = idempotentExecution(request);
    const recordedId: RecordedAccountId | undefined = execution ? { earlier: execution.earlierSubject, record: (id) => execution.recordSubject(id) } : undefined;
    const written = await this.commands.execute<CreateAccountCommand, WriteResult>(new CreateAccountCommand(actor, attributes, recordedId));
    response.setHeader('Location', `${collectionUrl(request, this.config)}/${written.accountId}`);
    return this.answer(written, response);
  }

  // Before @Get(':id'), so that the bare collection path is the list.
  @Get()
  @ListAccountsDocs()
  @RequiresScope('accounts:read')
  async list(@CurrentActor() actor: Actor, @Req() request: Request) {
    const query = readListQuery(new URL(request.originalUrl, 'http://localhost').searchParams);
    const view = await this.queries.execute<ListAccountsQuery, AccountListView>(new ListAccountsQuery(actor.tenant, query.filter, query.page));
    return listDocument(view, query, collectionUrl(request, this.config));
  }

  @Get(':id')
  @GetAccountDocs()
  @RequiresScope('accounts:read')
  async get(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const search = new URL(request.originalUrl, 'http://localhost').searchParams;
    if (search.has(AS_OF)) {
      // Time travel shows personal values the account no longer has: history is for audit:read.
      requireScope(request, 'audit:read');
      const asOf = readAsOf(search)!;
      const at = await this.queries.execute<GetAccountAsOfQuery, AccountAt>(new GetAccountAsOfQuery(actor.tenant, knownIdFormat(id), asOf));
      response.setHeader('ETag', etagOf(at.revision));
      return accountAsOfDocument(at);
    }
    const view = await this.queries.execute<GetAccountQuery, AccountView>(new GetAccountQuery(actor.tenant, knownIdFormat(id)));
    response.setHeader('ETag', etagOf(view.revision));
    return accountDocument(view.account);
  }

  @Patch(':id')
  @UpdateAccountDocs()
  @RequiresScope('accounts:write')
  async update(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) response: Response,
  ) {
    const attributes = readUpdateDocument(body, knownIdFormat(id), this.today());
    const command = new UpdateAccountCommand(actor, id, attributes, readIfMatch(ifMatch));
    const written = await this.commands.execute<UpdateAccountCommand, WriteResult>(command);
    return this.answer(written, response);
  }

  @IdempotentPost(':id/status')
  @ChangeStatusDocs()
  @HttpCode(200)
  @RequiresScope('accounts:write')
  async changeStatus(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    // Checked whether or not the request has an Idempotency-Key (`?.` would skip the whole call).
    const accountId = knownIdFormat(id);
    idempotentExecution(request)?.about(accountId);
    const { status, reason } = readStatusChangeDocument(body);
    const written = await this.commands.execute<ChangeStatusCommand, WriteResult>(new ChangeStatusCommand(actor, accountId, status, reason, readIfMatch(ifMatch)));
    return this.answer(written, response);
  }

  @IdempotentPost(':id/redact')
  @RedactAccountDocs()
  @HttpCode(200)
  @RequiresScope('accounts:write')
  async redact(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    // Its answer holds no personal data, but is sealed like the others: once the key is destroyed it
    // cannot be kept, and a retry answers anew (redacting again records nothing).
    // Checked whether or not the request has an Idempotency-Key (`?.` would skip the whole call).
    const accountId = knownIdFormat(id);
    idempotentExecution(request)?.about(accountId);
    const written = await this.commands.execute<RedactAccountCommand, WriteResult>(new RedactAccountCommand(actor, accountId, readIfMatch(ifMatch)));
    return this.answer(written, response);
  }

  /**
   * From the write's own fold (WriteResult.account): what the read model shows once it reaches the
   * write, without waiting for it. Reads wait for the store's head, so they see the write too.
   */
  private answer(written: WriteResult, response: Response) {
    response.setHeader('ETag', etagOf(written.revision));
    return accountDocument(written.account);
  }

  private today(): string {
    return toTimestamp(this.clock.now()).slice(0, 10);
  }
}


/** The accounts collection as a full URL, on the public base URL (src/http/public-url.ts): links start here. */
export const collectionUrl = (request: Request, config: AppConfig) => `${publicBaseUrl(request, config.publicBaseUrl)}${BASE_PATH}`;

/** A malformed id names no account: 404, exactly like an unknown one. */
export function knownIdFormat(id: string): string {
  if (!ACCOUNT_ID_PATTERN.test(id)) throw AccountNotFound();
  return id;
}
