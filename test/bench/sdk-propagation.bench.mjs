// Propagation latency of @omnikit/sdk in every browser engine installed (Chromium, Firefox,
// WebKit; see test/browser/engines.mjs) against a real @omnikit/server on loopback:
//   cross-tab:    cart.add in tab A -> subscriber callback in tab B (same browser storage)
//   cross-device: cart.add on device A -> subscriber callback on device B (push, poke, apply)
// Prints p50/p95/max per path and one summary line per engine; `--engine=firefox` runs one.
//   npm run bench -- sdk-propagation     (or: node test/bench/run.mjs sdk-propagation)
// Run alone (`node test/bench/sdk-propagation.bench.mjs [--rounds=200]`) it uses the server's
// build, so `npm run build` first.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import puppeteer from 'puppeteer-core';
import { remote } from 'webdriverio';
import { startServer, silentLogger } from '@omnikit/server';
import { engineNames, engines, startWebKitDriver } from '../browser/engines.mjs';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const rounds = Number(arg('rounds') ?? 200);
const only = arg('engine');
const root = fileURLToPath(new URL('../..', import.meta.url));

// The SDK as a site ships it: production mode (dev-only code out), bundled, minified.
const { outputFiles } = await esbuild.build({
  entryPoints: [`${root}packages/sdk/src/index.ts`],
  bundle: true,
  format: 'esm',
  write: false,
  minify: true,
  conditions: ['source'],
  define: { __OMNI_DEV__: 'false' },
  target: 'es2022',
});
const sdk = outputFiles[0].text;

const page = createServer((req, res) => {
  if (req.url === '/sdk.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
  } else {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bench</title>');
  }
});
await new Promise((resolve) => page.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${page.address().port}`;
const server = await startServer({
  port: 0,
  logger: silentLogger,
  // 200 rounds of changes from one device: past the production push budget.
  rateLimits: { push: { capacity: 1e6, refillPerSecond: 1e6 } },
  sites: [{ id: 'bench', publishableKey: 'pk_bench', allowedOrigins: [origin] }],
});

/** Runs in the page: both paths, `rounds` changes each; returns the samples (ms). */
const inPage = async ({ endpoint, rounds }) => {
  const { createClient } = await import('/sdk.js');
  const make = (namespace) =>
    createClient({ endpoint, publishableKey: 'pk_bench', namespace, logger: { warn() {} } });
  const until = (client, predicate) =>
    new Promise((resolve) => {
      if (predicate(client.state)) return resolve();
      const stop = client.subscribe(
        (s) => s,
        (s) => predicate(s) && (stop(), resolve()),
      );
    });
  const qtyOf = (s, sku) => s.cart.lines.find((l) => l.sku === sku)?.qty ?? 0;

  /** Adds on `from` and times until `to`'s subscriber sees it. */
  async function measure(from, to, sku) {
    const samples = [];
    for (let i = 1; i <= rounds; i++) {
      let seen;
      const arrived = new Promise((resolve) => {
        const stop = to.subscribe(
          (s) => qtyOf(s, sku),
          (q) => {
            if (q !== i) return;
            seen = performance.now();
            stop();
            resolve();
          },
        );
      });
      const start = performance.now();
      from.cart.add(sku, 1);
      await arrived;
      samples.push(seen - start);
      // Let the sender settle so each round measures one change, not a queue.
      await until(from, (s) => s.status.pending === 0 && s.status.state === 'online');
    }
    return samples;
  }

  // Two tabs: two clients on one storage namespace.
  const ns = `bench-tabs-${Date.now()}`;
  const tabA = make(ns);
  const tabB = make(ns);
  await Promise.all([tabA.start(), tabB.start()]);
  const tabs = await measure(tabA, tabB, 'TAB');

  // Two devices joined through a handoff: two namespaces, the server in between.
  const devA = make(`bench-a-${Date.now()}`);
  const devB = make(`bench-b-${Date.now()}`);
  devA.cart.add('WARMUP', 1);
  const { code } = await devA.identity.createHandoff();
  await devB.identity.claimHandoff(code);
  await until(devB, (s) => s.status.state === 'online');
  const devices = await measure(devA, devB, 'DEV');
  await Promise.all([tabA, tabB, devA, devB].map((c) => c.close()));
  return { tabs, devices };
};

/** Opens the page in `name`'s engine and runs `inPage` there; closes the browser after. */
async function measureIn(name, found) {
  const args = { endpoint: server.url, rounds };
  if (name === 'webkit') {
    const driver = await startWebKitDriver(found);
    try {
      const session = await remote(driver.options);
      try {
        await session.navigateTo(origin);
        return await session.execute(inPage, args);
      } finally {
        await session.deleteSession();
      }
    } finally {
      driver.stop();
    }
  }
  const browser = await puppeteer.launch({
    executablePath: found,
    headless: true,
    ...(name === 'firefox'
      ? { browser: 'firefox' }
      : { args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] }),
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(origin);
    return await tab.evaluate(inPage, args);
  } finally {
    await browser.close();
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { p50: at(50), p95: at(95), max: s.at(-1) };
};
const ms = (n) => `${n.toFixed(1)} ms`;

let failed = false;
try {
  for (const name of only ? [only] : engineNames) {
    const engine = engines[name];
    const label = engine?.label ?? name;
    const found = engine?.find();
    if (!found) {
      console.log(`\n${label}: not installed (${engine?.install ?? 'unknown engine'})`);
      failed ||= !!only;
      continue;
    }
    console.log('');
    const result = await measureIn(name, found);
    const tabs = stats(result.tabs);
    const devices = stats(result.devices);
    const row = (path, s, target) =>
      console.log(
        `${path.padEnd(13)} p50 ${ms(s.p50).padStart(9)}  p95 ${ms(s.p95).padStart(9)}  max ${ms(s.max).padStart(9)}  target p95 <= ${target} ms  ${s.p95 <= target ? 'ok' : 'OVER'}`,
      );
    console.log(`sdk propagation, ${rounds} rounds each, ${label} + @omnikit/server on loopback`);
    row('cross-tab', tabs, 20);
    row('cross-device', devices, 100);
    console.log(
      `sdk-propagation: engine=${name} rounds=${rounds} crossTabP95=${tabs.p95.toFixed(1)}ms crossDeviceP95=${devices.p95.toFixed(1)}ms`,
    );
  }
} finally {
  await server.close();
  page.close();
}
process.exit(failed ? 1 : 0);
