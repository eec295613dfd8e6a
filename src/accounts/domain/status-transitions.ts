import { AccountStatus } from './account';

/** docs/API.md: which status may follow which. Staying put is no transition (and records nothing). */
const ALLOWED: Record<AccountStatus, readonly AccountStatus[]> = {
  pending: ['active', 'inactive', 'suspended'],
  active: ['inactive', 'suspended'],
  suspended: ['active', 'inactive'],
  inactive: ['active', 'pending'],
};

export function canTransition(from: AccountStatus, to: AccountStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Where an account in `from` may go. */
export function allowedTransitions(from: AccountStatus): readonly AccountStatus[] {
  return ALLOWED[from];
}
