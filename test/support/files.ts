import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file below dir (SQLite -wal and -shm files included), as bytes. */
export function filesBelow(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [{ path, bytes: readFileSync(path) }];
  });
}

/** The files (and logs) that contain any of the values, as UTF-8 bytes: [] is the goal. */
export function plaintextHits(dir: string, values: string[], extra: { name: string; text: string }[] = []): string[] {
  const sources = [...filesBelow(dir), ...extra.map((e) => ({ path: e.name, bytes: Buffer.from(e.text, 'utf8') }))];
  return sources.flatMap(({ path, bytes }) => values.filter((v) => bytes.includes(Buffer.from(v, 'utf8'))).map((v) => `${path}: ${v}`));
}
