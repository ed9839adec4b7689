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
