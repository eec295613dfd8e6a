import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeDir } from '../support/app-harness';

// The package as another project gets it: built as `npm run build` builds it, packed by `npm pack`
// with the files package.json lists, unpacked into another project's node_modules, and reached by
// its name from JavaScript and from TypeScript (old and new module resolution). Only its
// dependencies are borrowed from this checkout's node_modules, instead of installed.

jest.setTimeout(120_000);

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

describe('the package, installed in another project', () => {
  let dir: string;
  let packed: string[];
  const project = () => join(dir, 'project');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'identity-accounts-package-'));
    const source = join(dir, 'source');
    await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(source, 'dist')]);
    for (const entry of ['package.json', 'README.md', 'docs']) cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: source });
    const [{ filename, files }] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packed = files.map((f) => f.path);

    const modules = join(project(), 'node_modules');
    mkdirSync(modules, { recursive: true });
    await run('tar', ['-xzf', join(dir, filename), '-C', modules]);
    renameSync(join(modules, 'package'), join(modules, 'identity-accounts'));
    symlinkSync(join(ROOT, 'node_modules'), join(modules, 'identity-accounts', 'node_modules'), 'dir');
  });
  afterAll(() => removeDir(dir));

  it('packs the built JavaScript and type declarations of both entry points, the README and docs, and no sources', () => {
    expect(packed).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/testing.d.ts', 'dist/main.js', 'dist/cli.js', 'README.md', 'docs/API.md']));
    expect(packed.filter((file) => /^(src|test)\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(readdirSync(join(project(), 'node_modules', 'identity-accounts', 'dist'))).toContain('testing.js');
  });

  it('runs identity-accounts/testing from JavaScript: a server that answers, prints nothing, and closes', async () => {
    writeFileSync(
      join(project(), 'outside.cjs'),
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
    const { stdout, stderr } = await run(process.execPath, ['outside.cjs'], { cwd: project() });
    expect([stdout, stderr]).toEqual([JSON.stringify({ status: 201 }), '']);
  });

  it.each([
    ['node16', 'node16'],
    ['node10 (CommonJS projects)', 'commonjs'],
  ])('gives TypeScript the entry points\' own types, with %s module resolution', async (resolution, module) => {
    writeFileSync(
      join(project(), 'outside.ts'),
      `import { startTestServer, type TestServer } from 'identity-accounts/testing';
      import { createApp } from 'identity-accounts';
      export async function check(): Promise<string> {
        const server: TestServer = await startTestServer({ organization: 'acme', scopes: ['accounts:read'] });
        const other: string = await server.createKey({ environment: 'production' });
        // @ts-expect-error: the declarations are the package's own, not any
        server.nope;
        void createApp;
        return server.url + other;
      }`,
    );
    const options = ['--noEmit', '--strict', '--module', module, '--moduleResolution', resolution.split(' ')[0], '--target', 'es2022', '--skipLibCheck'];
    const types = ['--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node'];
    await expect(run(process.execPath, [TSC, ...options, ...types, 'outside.ts'], { cwd: project() })).resolves.toBeDefined();
  });
});
