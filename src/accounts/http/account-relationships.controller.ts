import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Request, Response } from 'express';
import { CurrentActor, RequiresScope } from '../../auth/api-key.guard';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { IdempotentPost, idempotentExecution } from '../../idempotency/idempotency.interceptor';
import { Actor } from '../../kernel/tenant';
import { ChangeRelatedCommand } from '../application/change-related';
import { AccountView, GetAccountQuery } from '../application/get-account';
import { WriteResult } from '../application/run-account-command';
import { Relationship } from '../domain/relationships';
import { etagOf, readIfMatch } from './account.serializer';
import { BASE_PATH, collectionUrl, knownIdFormat } from './accounts.controller';
import { ApiKeyedJsonApi } from '../../openapi/jsonapi-openapi';
import { LinkRelatedDocs, ReadRelatedDocs, UnlinkRelatedDocs } from './account-relationships.openapi';
import { linkageDocument, readLinkageDocument } from './relationship-document';

/**
 * The account's links to verification sessions and documents: read, link, unlink. Every answer is
 * the relationship's whole linkage, with the account's ETag (If-Match works as on the other writes).
 */
@Controller(BASE_PATH)
@ApiKeyedJsonApi('relationships')
export class AccountRelationshipsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':id/relationships/sessions')
  @ReadRelatedDocs('sessions')
  @RequiresScope('accounts:read')
  sessions(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.read('sessions', id, actor, request, response);
  }

  @IdempotentPost(':id/relationships/sessions')
  @LinkRelatedDocs('sessions')
  @HttpCode(200)
  @RequiresScope('accounts:write')
  linkSessions(@Param('id') id: string, @Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.change('link', 'sessions', { id, body, ifMatch, actor, request, response });
  }

  @Delete(':id/relationships/sessions')
  @UnlinkRelatedDocs('sessions')
  @RequiresScope('accounts:write')
  unlinkSessions(@Param('id') id: string, @Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.change('unlink', 'sessions', { id, body, ifMatch, actor, request, response });
  }

  @Get(':id/relationships/documents')
  @ReadRelatedDocs('documents')
  @RequiresScope('accounts:read')
  documents(@Param('id') id: string, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.read('documents', id, actor, request, response);
  }

  @IdempotentPost(':id/relationships/documents')
  @LinkRelatedDocs('documents')
  @HttpCode(200)
  @RequiresScope('accounts:write')
  linkDocuments(@Param('id') id: string, @Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.change('link', 'documents', { id, body, ifMatch, actor, request, response });
  }

  @Delete(':id/relationships/documents')
  @UnlinkRelatedDocs('documents')
  @RequiresScope('accounts:write')
  unlinkDocuments(@Param('id') id: string, @Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @CurrentActor() actor: Actor, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return this.change('unlink', 'documents', { id, body, ifMatch, actor, request, response });
  }

  private async read(relationship: Relationship, id: string, actor: Actor, request: Request, response: Response) {
    const view = await this.queries.execute<GetAccountQuery, AccountView>(new GetAccountQuery(actor.tenant, knownIdFormat(id)));
    response.setHeader('ETag', etagOf(view.revision));
    return linkageDocument(view.account, relationship, this.selfUrl(request, id, relationship));
  }

  private async change(
    change: 'link' | 'unlink',
    relationship: Relationship,
    { id, body, ifMatch, actor, request, response }: { id: string; body: unknown; ifMatch: string | undefined; actor: Actor; request: Request; response: Response },
  ) {
    const accountId = knownIdFormat(id);
    idempotentExecution(request)?.about(accountId);
    const ids = readLinkageDocument(body, relationship);
    const command = new ChangeRelatedCommand(actor, accountId, change, relationship, ids, readIfMatch(ifMatch));
    // Answered from the write's own fold (WriteResult.account), not the read model.
    const written = await this.commands.execute<ChangeRelatedCommand, WriteResult>(command);
    response.setHeader('ETag', etagOf(written.revision));
    return linkageDocument(written.account, relationship, this.selfUrl(request, accountId, relationship));
  }

  private selfUrl(request: Request, id: string, relationship: Relationship): string {
    return `${collectionUrl(request, this.config)}/${id}/relationships/${relationship}`;
  }
}
