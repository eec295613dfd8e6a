import { AccountCommand } from '../../src/accounts/domain/commands';
import { decide } from '../../src/accounts/domain/decide';
import { AccountRuleViolation, InvalidAttributes } from '../../src/accounts/domain/errors';
import { AccountEvent } from '../../src/accounts/domain/events';
import { fold } from '../../src/accounts/domain/evolve';

/** Aggregate specs read as: given these events, when this command, then these events (or this refusal). */
export function given(...history: AccountEvent[]) {
  const state = fold(history);
  return {
    when: (command: AccountCommand) => ({
      then: (expected: AccountEvent[]) => expect(decide(command, state)).toEqual(expected),
      thenRefused: (code: string) => {
        const error = refusalOf(() => decide(command, state));
        expect(error).toBeInstanceOf(AccountRuleViolation);
        expect((error as AccountRuleViolation).code).toBe(code);
      },
      thenInvalid: (paths: string[]) => {
        const error = refusalOf(() => decide(command, state));
        expect(error).toBeInstanceOf(InvalidAttributes);
        expect((error as InvalidAttributes).problems.map((p) => p.path)).toEqual(paths);
      },
    }),
  };
}

function refusalOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal, but the command was accepted');
}
