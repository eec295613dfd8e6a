import { AccountStatus } from './account';
import { AccountRuleViolation } from './errors';
import { MAX_LINKED, Relationship, relatedIdRule } from './relationships';
import { allowedTransitions } from './status-transitions';

// The refusals of the account's rules, each with its stable client-facing code.

export const AccountNotFound = () => new AccountRuleViolation('account_not_found', 'No account with this id exists');

export const AccountAlreadyExists = (id: string) =>
  new AccountRuleViolation('account_already_exists', 'An account with this id already exists', undefined, { account_id: id });

export const AccountRedacted = () =>
  new AccountRuleViolation('account_redacted', 'The account has been redacted and can no longer be changed');

export const InvalidStatusTransition = (from: AccountStatus, to: AccountStatus) =>
  new AccountRuleViolation('invalid_status_transition', `status cannot go from ${from} to ${to}: from ${from}, an account can go to ${allowedTransitions(from).join(' or ')}`, 'status', {
    from,
    to,
  });

export const TooManyLinked = (relationship: Relationship, linked: number, adding: number) =>
  new AccountRuleViolation(
    'relationship_limit_exceeded',
    `An account links at most ${MAX_LINKED} ${relationship}: it links ${linked}, and this request would add ${adding} more. Unlink some first`,
    undefined,
    { relationship, limit: MAX_LINKED, linked, adding },
  );

export const InvalidRelatedId = (relationship: Relationship) =>
  new AccountRuleViolation('invalid_related_id', `Every id of ${relationship} must be ${relatedIdRule(relationship)}`, undefined, { relationship });
