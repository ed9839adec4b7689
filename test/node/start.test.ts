import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `npm start` minus the build: the demo entry must start real HTTP servers and print their URLs.
test('demo/start.mjs serves the storefront page and the API and prints both URLs', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'omnikit-start-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEMO_PORT: '0',
    API_PORT: '0',
    OMNIKIT_DATA_DIR: dataDir,
  };
  delete env.DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'demo/start.mjs'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const urls: Record<string, string> = {};
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = /^omnikit (demo storefront|API):\s+(\S+)/.exec(line);
    if (match) urls[match[1]!] = match[2]!;
    if (urls['demo storefront'] && urls['API']) break;
  }
  const page = await fetch(urls['demo storefront']!);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(
    html,
    /<script\s+src="\/omnikit\.min\.js"\s+data-endpoint="http:\/\/127\.0\.0\.1:\d+"/,
  );
  const health = await fetch(urls['API']!);
  assert.equal(health.status, 200);
  // The demo catalog (real product names and prices) was imported on this first run.
  const api = new URL(urls['API']!).origin;
  const products = await fetch(`${api}/v1/products?skus=85123A`, {
    headers: { 'X-Omni-Key': 'pk_demo_omnikit' },
  });
  const body = (await products.json()) as { products: { title: string; price: number }[] };
  assert.deepEqual(
    body.products.map((p) => [p.title, p.price]),
    [['White Hanging Heart T-Light Holder', 295]],
  );
  const image = await fetch(new URL('/images/85123A.svg', urls['demo storefront']));
  assert.equal(image.headers.get('content-type'), 'image/svg+xml');
  assert.match(await image.text(), /White Hanging Heart/);
  assert.equal(((await health.json()) as { ok: boolean }).ok, true);
});

/** Starts demo/start.mjs on `dataDir` with `extra` env; resolves with its two URLs. */
async function startDemo(
  t: { after(fn: () => unknown): void },
  dataDir: string,
  extra: NodeJS.ProcessEnv,
): Promise<{ storefront: string; api: string; stop(): Promise<void>; lines: string[] }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEMO_PORT: '0',
    API_PORT: '0',
    OMNIKIT_DATA_DIR: dataDir,
    ...extra,
  };
  delete env.DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'demo/start.mjs'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  };
  t.after(stop);
  const urls: Record<string, string> = {};
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    lines.push(line);
    const match = /^omnikit (demo storefront|API):\s+(\S+)/.exec(line);
    if (match) urls[match[1]!] = match[2]!;
    if (urls['demo storefront'] && urls['API']) break;
  }
  return {
    storefront: urls['demo storefront']!,
    api: new URL(urls['API']!).origin,
    stop,
    lines,
  };
}

/** The demo API's price and currency of one sku. */
async function priceOf(api: string, sku: string): Promise<[number, string]> {
  const res = await fetch(`${api}/v1/products?skus=${sku}`, {
    headers: { 'X-Omni-Key': 'pk_demo_omnikit' },
  });
  const { products } = (await res.json()) as { products: { price: number; currency: string }[] };
  return [products[0]!.price, products[0]!.currency];
}

test('DEMO_CURRENCY prices the shop in another currency, and a later run re-prices it', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'omnikit-currency-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  // £2.95 at the demo rate of 1,850 won per pound, rounded to 10 won: ₩5,460.
  const krw = await startDemo(t, dataDir, { DEMO_CURRENCY: 'KRW' });
  assert.deepEqual(await priceOf(krw.api, '85123A'), [5460, 'KRW']);
  const page = await (await fetch(new URL('/product.html?sku=85123A', krw.storefront))).text();
  assert.match(page, /data-currency="KRW"/);
  assert.match(page, /₩5,460/);
  assert.match(page, /"price":"5460","priceCurrency":"KRW"/);
  await krw.stop();

  // The same data directory in pounds again: the catalog is re-priced, not left in won.
  const gbp = await startDemo(t, dataDir, { DEMO_CURRENCY: 'gbp' });
  assert.deepEqual(await priceOf(gbp.api, '85123A'), [295, 'GBP']);
  assert.ok(gbp.lines.some((l) => /re-priced from KRW to GBP/.test(l)));
});

test('DEMO_CURRENCY refuses a currency the demo has no rate for', async () => {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'demo/start.mjs'],
    { env: { ...process.env, DEMO_CURRENCY: 'XYZ', DEMO_PORT: '0', API_PORT: '0' }, stdio: 'pipe' },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number];
  assert.notEqual(code, 0);
  assert.match(stderr, /DEMO_CURRENCY=XYZ is not one the demo prices in: GBP, USD, EUR, JPY, KRW/);
});
