// Where a problem is, as a JSON Pointer (RFC 6901): what `source.pointer` must be. A path below
// /data/attributes is kept as its reference tokens joined by "/", each token escaped (~ as ~0,
// / as ~1), so any member name, "" and "a/b" included, has a pointer that leads exactly to it.

export const escapeToken = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeToken = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');

/** The path of member `key` of the value at `parent`; null is the root itself. */
export const childPath = (parent: string | null, key: string): string => (parent === null ? escapeToken(key) : `${parent}/${escapeToken(key)}`);

/** The member names along a path, unescaped. */
export const tokensOf = (path: string): string[] => path.split('/').map(unescapeToken);
