import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runImportCli } from '../../src/commerce/cli.js';
import { PGlite } from '@electric-sql/pglite';
import { databaseUrl, dropSchema, freshSchema, pgliteTemplate } from '../helpers.js';
import { commerceSites, pub, startCommerceServer } from './helpers.js';

const demoDir = fileURLToPath(new URL('../../../../demo/data/', import.meta.url));
const DAY = 86_400_000;

type Recs = { items: { sku: string; reason: { code: string }; product: { title: string } }[] };
type Stock = { stores: { updatedAt: number | null }[]; online: { updatedAt: number | null } };

test('demo seeding on first run, kept on later runs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'omnikit-demo-'));
  const schema = freshSchema();
  t.after(async () => {
    await rm(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });
  // PGlite: a data directory on disk (what `npm start` uses), made from the initdb'd template.
  const database = databaseUrl
    ? { url: databaseUrl, schema, poolSize: 4 }
    : { dataDir: join(dir, 'db') };
  const start = async (fromTemplate: boolean) =>
    startCommerceServer({
      commerce: { demo: { dir: demoDir, site: 'shop' } },
      server: {
        database:
          fromTemplate && !databaseUrl
            ? { ...database, pgliteTemplate: await pgliteTemplate() }
            : database,
        schema,
      },
    });

  const first = await start(true);
  let closed = false;
  t.after(() => (closed ? undefined : first.close()));
  const device = await first.api.register();
  const trending = await first.api.call<Recs>('GET', '/v1/recommendations?strategy=trending', {
    headers: device.auth,
  });
  assert.equal(trending.body.items.length, 10);
  // The 2011 history was shifted to end now, so it is trending rather than merely popular.
  assert.equal(trending.body.items[0]?.reason.code, 'trending');
  assert.ok(trending.body.items[0]?.product.title);
  const bought = await first.api.call<Recs>(
    'GET',
    '/v1/recommendations?strategy=also-bought&sku=85123A&limit=5',
    { headers: device.auth },
  );
  assert.equal(bought.body.items[0]?.reason.code, 'often_bought_with');
  const stock = await first.api.call<Stock>('GET', '/v1/stock?sku=85123A&postal=M1', {
    headers: pub,
  });
  assert.equal(stock.body.stores.length, 14);
  assert.ok(Date.now() - stock.body.online.updatedAt! < DAY, 'stock dates shifted too');
  await first.close();
  closed = true;

  // Second run on the same data: nothing is imported again, the model is rebuilt from the tables.
  const second = await start(false);
  t.after(() => second.close());
  const products = await second.api.call<{ products: { updatedAt: number }[] }>(
    'GET',
    '/v1/products?skus=85123A',
    { headers: pub },
  );
  assert.equal(products.body.products.length, 1);
  const again = await second.api.call<Recs>(
    'GET',
    '/v1/recommendations?strategy=also-bought&sku=85123A&limit=5',
    { headers: device.auth },
  );
  assert.deepEqual(again.body, bought.body);
});

test('the import CLI prints the report and fails on rejected rows', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'omnikit-cli-'));
  const schema = freshSchema() ?? 'catalog_cli';
  t.after(async () => {
    await rm(dir, { recursive: true, force: true });
    await dropSchema(databaseUrl ? schema : undefined);
  });
  if (!databaseUrl) {
    // An initdb'd data directory, as `npm start` leaves one (initdb alone takes seconds).
    const pg = await PGlite.create({
      dataDir: join(dir, 'db'),
      loadDataDir: await pgliteTemplate(),
    });
    await pg.close();
  }
  const sitesFile = join(dir, 'sites.json');
  await writeFile(sitesFile, JSON.stringify(commerceSites()));
  const good = join(dir, 'good.csv');
  await writeFile(good, 'sku,title,price,currency\nK-1,Kettle,2500,GBP\nK-2,Toaster,3000,GBP\n');
  const bad = join(dir, 'bad.csv');
  await writeFile(bad, 'sku,title,price,currency\nK-3,Grill,2500,GBP\nK 4,,-1,XXX\n');
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await runImportCli(
      [
        '--sites',
        sitesFile,
        '--site',
        'shop',
        '--data-dir',
        join(dir, 'db'),
        '--schema',
        schema,
        ...args,
      ],
      { out: (s) => (out += s), err: (s) => (err += s) },
    );
    return {
      code,
      out,
      err,
      report: out ? (JSON.parse(out) as Record<string, unknown>) : undefined,
    };
  };
  const first = await run('--feed', good);
  assert.equal(first.code, 0, first.err);
  assert.equal(first.report?.created, 2);
  assert.match(first.err, /imported: 2 created/);
  const rejected = await run('--feed', bad);
  assert.equal(rejected.code, 1);
  assert.equal(rejected.report?.applied, false);
  assert.equal((rejected.report?.rejected as unknown[]).length, 1);
  const partial = await run('--feed', bad, '--partial');
  assert.equal(partial.code, 1, 'still non-zero: rows were rejected');
  assert.equal(partial.report?.created, 1);
  const again = await run('--feed', good);
  assert.deepEqual([again.code, again.report?.unchanged], [0, 2]);
  const usage = await run('--feed', join(dir, 'missing.csv'));
  assert.equal(usage.code, 2);
  assert.equal(await runImportCli(['--site', 'shop'], { out: () => {}, err: () => {} }), 2);
});
