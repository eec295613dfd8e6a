import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeDir } from '../support/app-harness';

// The package as another project gets it: built as `npm run build` builds it, packed with the files
// package.json lists, and its entry points reached through its `exports` by the package's name, in
// JavaScript and in TypeScript. (Node and TypeScript resolve a package's own name from inside it
// exactly as from a project that installed it.)

jest.setTimeout(120_000);

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

describe('the package: built entry points and exports', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'identity-accounts-package-'));
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')]);
    for (const entry of ['package.json', 'README.md', 'docs']) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });
  afterAll(() => removeDir(dir));

  it('packs the built JavaScript and type declarations of both entry points, the README and docs, and no sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/testing.d.ts', 'dist/main.js', 'dist/cli.js', 'README.md', 'docs/API.md']));
    expect(files.filter((file) => /^(src|test)\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('runs identity-accounts/testing from the built JavaScript: a server that answers, prints nothing, and closes', async () => {
    writeFileSync(
      join(dir, 'outside.cjs'),
      `const { startTestServer } = require('identity-accounts/testing');
      (async () => {
        const server = await startTestServer();
        const created = await fetch(server.url + '/v1/identity/accounts', {
          method: 'POST',
          headers: { 'X-Api-Key': server.apiKey, 'Content-Type': 'application/json' },
          body: JSON.stringify({ data: { type: 'account', attributes: { entity_type: 'person' } } }),
        });
        await server.close();
        process.stdout.write(JSON.stringify({ status: created.status }));
      })();`,
    );
    const { stdout, stderr } = await run(process.execPath, ['outside.cjs'], { cwd: dir });
    expect([stdout, stderr]).toEqual([JSON.stringify({ status: 201 }), '']);
  });

  it('gives TypeScript the entry point\'s own types (node16 module resolution, through exports)', async () => {
    writeFileSync(
      join(dir, 'outside.ts'),
      `import { startTestServer, type TestServer } from 'identity-accounts/testing';
      export async function check(): Promise<string> {
        const server: TestServer = await startTestServer({ organization: 'acme', scopes: ['accounts:read'] });
        const other: string = await server.createKey({ environment: 'production' });
        // @ts-expect-error: the declarations are the package's own, not any
        server.nope;
        return server.url + other;
      }`,
    );
    const tsc = [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'outside.ts'];
    await expect(run(process.execPath, tsc, { cwd: dir })).resolves.toBeDefined();
  });
});
