import { isJsonObject } from '../../kernel/json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 7396: a key present replaces, a key absent is kept, an explicit null removes. */
export function mergePatch(target: unknown, patch: unknown): Json {
  if (!isJsonObject(patch)) return patch as Json;
  const result: Record<string, Json> = isJsonObject(target) ? { ...(target as Record<string, Json>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
