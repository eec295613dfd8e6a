import { IsDefined, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ACCOUNT_STATUSES, AccountStatus } from '../domain/account';
import { checkAttributes, invalidAttributes, readEnvelope } from './account-document';

export const STATUS_CHANGE_TYPE = 'account-status-change';

const REASON = { message: 'must be a string of at most 500 characters, or null' };

export class StatusChangeAttributesDto {
  // Messages say what is allowed; account-document.ts puts the attribute's name in front.
  @IsDefined({ message: `is required: one of ${ACCOUNT_STATUSES.join(', ')}` })
  @IsIn(ACCOUNT_STATUSES, { message: `must be one of ${ACCOUNT_STATUSES.join(', ')}` })
  status!: AccountStatus;

  @IsOptional() @IsString(REASON) @MaxLength(500, REASON) reason?: string | null;
}

/** `{ data: { type: "account-status-change", attributes: { status, reason } } }` (docs/API.md). */
export function readStatusChangeDocument(body: unknown): { status: AccountStatus; reason: string | null } {
  const data = readEnvelope(body, STATUS_CHANGE_TYPE);
  const { attributes, problems } = checkAttributes(StatusChangeAttributesDto, data.attributes ?? {});
  if (problems.length) throw invalidAttributes(problems);
  return { status: attributes.status as AccountStatus, reason: (attributes.reason as string | undefined) ?? null };
}
