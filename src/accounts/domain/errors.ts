/** A rule of the account said no. `code` is the stable, client-facing error code. */
export class AccountRuleViolation extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Where in the attributes the problem is, e.g. `person` or `business/legal_name`. */
    readonly attributePath?: string,
    readonly meta?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AccountRuleViolation';
  }
}

/** Several attribute problems found at once, so a client can fix them all in one go. */
export class InvalidAttributes extends Error {
  constructor(readonly problems: AttributeProblem[]) {
    super(problems.map((p) => p.detail).join('; '));
    this.name = 'InvalidAttributes';
  }
}

export interface AttributeProblem {
  /** Path below `/data/attributes`: member names joined by "/", escaped as JSON Pointer tokens (RFC 6901), e.g. `person/birth_date`. */
  path: string;
  code: 'invalid_attribute' | 'unknown_attribute' | 'read_only_attribute' | 'missing_attribute';
  detail: string;
}
