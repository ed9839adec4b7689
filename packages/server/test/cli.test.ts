import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import {
  Api,
  databaseUrl,
  dropSchema,
  freshSchema,
  startTestServer,
  testSites,
} from './helpers.js';

describe('omnikit-server CLI', () => {
  /** Starts `omnikit-server` on a throwaway database with `args`; resolves once it listens. */
  async function startCli(args: string[] = []) {
    const dir = await mkdtemp(join(tmpdir(), 'omnikit-cli-'));
    const schema = freshSchema();
    const sitesFile = join(dir, 'sites.json');
    await writeFile(sitesFile, JSON.stringify({ sites: testSites() }));
    const env = { ...process.env };
    if (databaseUrl && schema) {
      // The CLI has no schema flag: point the pool's search_path at a throwaway schema.
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${schema}`);
      env.DATABASE_URL = url.toString();
      await startTestServer({ schema }).then((s) => s.close());
    }
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        'packages/server/src/cli.ts',
        '--port',
        '0',
        '--sites',
        sitesFile,
        ...(databaseUrl ? [] : ['--data-dir', join(dir, 'data')]),
        ...args,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.includes('"listening"'));
        if (line) resolve((JSON.parse(line) as { url: string }).url);
      });
      child.once('exit', (code) => reject(new Error(`cli exited with ${code}: ${out}`)));
    });
    return {
      url,
      child,
      out: () => out,
      /** Ends the CLI with SIGTERM; resolves with its exit code. */
      async stop(): Promise<number | null> {
        let code = child.exitCode;
        if (code === null) {
          child.kill('SIGTERM');
          [code] = (await once(child, 'exit')) as [number | null];
        }
        await rm(dir, { recursive: true });
        await dropSchema(schema);
        return code;
      },
    };
  }

  test('the CLI serves, logs JSON and shuts down gracefully on SIGTERM', async () => {
    const cli = await startCli();
    let code: number | null;
    try {
      const api = new Api(cli.url);
      const d = await api.register();
      assert.equal((await api.pull(d)).version, 0);
      assert.ok(cli.out().includes('"path":"/v1/devices"'));
      assert.ok(!cli.out().includes(d.token));
    } finally {
      code = await cli.stop();
    }
    assert.equal(code, 0, 'exits 0 on SIGTERM');
  });

  test("--trust-proxy limits each forwarded client address on its own; without it, all share the proxy's", async () => {
    // Registration allows a burst of 30 per address: the 31st from one address is refused.
    const register = (url: string, from: string) =>
      fetch(`${url}/v1/devices`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-omni-key': 'pk_shop',
          'x-forwarded-for': from,
        },
        body: JSON.stringify({ channel: 'web' }),
      }).then(async (res) => (await res.arrayBuffer(), res.status));
    const statuses = async (args: string[]) => {
      const cli = await startCli(args);
      try {
        const first: number[] = [];
        for (let i = 0; i < 30; i++) first.push(await register(cli.url, '198.51.100.1'));
        const other = await register(cli.url, '198.51.100.2');
        return { first, other, again: await register(cli.url, '198.51.100.1') };
      } finally {
        await cli.stop();
      }
    };
    const trusted = await statuses(['--trust-proxy']);
    assert.deepEqual(trusted.first, Array<number>(30).fill(201));
    assert.equal(trusted.other, 201, 'another forwarded address has its own budget');
    assert.equal(trusted.again, 429, 'the first address spent its burst');
    const untrusted = await statuses([]);
    assert.deepEqual(untrusted.first, Array<number>(30).fill(201));
    assert.equal(untrusted.other, 429, "without --trust-proxy every request is the proxy's");
  });

  test('the CLI refuses a bad sites file with a clear message', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'packages/server/src/cli.ts', '--port', '0'],
      { env: { ...process.env, OMNIKIT_SITES: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (err += c));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(err, /--sites <file>/);
  });

  test('omnikit-server gc runs one retention pass and prints what it deleted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'omnikit-gc-'));
    const schema = freshSchema();
    try {
      const sitesFile = join(dir, 'sites.json');
      await writeFile(sitesFile, JSON.stringify({ sites: testSites() }));
      const run = async (args: string[]) => {
        const child = spawn(
          process.execPath,
          ['--conditions=source', '--import', 'tsx', 'packages/server/src/cli.ts', 'gc', ...args],
          { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
        const [code] = (await once(child, 'exit')) as [number | null];
        return { code, out, err };
      };
      const where =
        databaseUrl && schema ? ['--schema', schema] : ['--data-dir', join(dir, 'data')];
      const done = await run(['--sites', sitesFile, ...where]);
      assert.equal(done.code, 0, done.err);
      const report = JSON.parse(done.out) as { ran: boolean; sites: Record<string, unknown> };
      assert.equal(report.ran, true);
      assert.deepEqual(Object.keys(report.sites), ['shop', 'other']);
      const bad = await run(['--sites', sitesFile, '--batch-size', '0', ...where]);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--batch-size/);
    } finally {
      await rm(dir, { recursive: true });
      await dropSchema(schema);
    }
  });
});
