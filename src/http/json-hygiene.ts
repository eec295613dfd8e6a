// What every JSON value a client sends is checked for before any validator sees it. Validators
// (class-transformer, class-validator and the libraries behind them) are written for ordinary text
// and ordinary objects: a key named like a member of Object.prototype (`constructor`, `__proto__`)
// or a string holding a lone UTF-16 surrogate makes some of them throw. So input first passes here,
// and the validators only ever get the cleaned copy.

import { childPath } from './json-pointer';

/** C0 controls, DEL and C1 controls: never part of a name, an address or an identifier. */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export type HygieneProblem =
  | { path: string; kind: 'inherited_key' }
  | { path: string; kind: 'control_character' | 'lone_surrogate' };

/** Why a string is not text a person could have typed, or null when it is. */
export function unsafeTextKind(value: string): 'control_character' | 'lone_surrogate' | null {
  if (LONE_SURROGATE.test(value)) return 'lone_surrogate';
  if (CONTROL.test(value)) return 'control_character';
  return null;
}

/** Names an object inherits (`constructor`, `toString`, `__proto__`...): a validator may take them for its own. */
const isInheritedName = (key: string) => key in Object.prototype;

/**
 * A copy of `value` without the keys and strings that validators cannot be trusted with, and the
 * problem of each one left out, by its path (src/http/json-pointer.ts). Recursive: jsonBody caps bodies at
 * MAX_BODY_DEPTH levels, far below what could overflow the stack.
 */
export function cleanJson(value: unknown): { clean: unknown; problems: HygieneProblem[] } {
  const problems: HygieneProblem[] = [];
  const visit = (node: unknown, path: string | null): unknown => {
    if (typeof node === 'string') {
      const kind = unsafeTextKind(node);
      if (kind) problems.push({ path: path ?? '', kind });
      return kind ? undefined : node;
    }
    if (Array.isArray(node)) return node.map((child, i) => visit(child, childPath(path, String(i))));
    if (typeof node !== 'object' || node === null) return node;
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      const memberPath = childPath(path, key);
      if (isInheritedName(key)) {
        problems.push({ path: memberPath, kind: 'inherited_key' });
        continue;
      }
      const cleaned = visit(child, memberPath);
      if (cleaned !== undefined) copy[key] = cleaned;
    }
    return copy;
  };
  return { clean: visit(value, null), problems };
}
