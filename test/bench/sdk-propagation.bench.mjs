// Propagation latency of @omnikit/sdk in real Chromium against a real @omnikit/server on loopback:
//   cross-tab:    cart.add in tab A -> subscriber callback in tab B (same browser storage)
//   cross-device: cart.add on device A -> subscriber callback on device B (push, poke, apply)
// Prints p50/p95/max per path and one summary line.
//   npm run bench -- sdk-propagation     (or: node test/bench/run.mjs sdk-propagation)
// Run alone (`node test/bench/sdk-propagation.bench.mjs [--rounds=200]`) it uses the server's
// build, so `npm run build` first.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import puppeteer from 'puppeteer-core';
import { startServer, silentLogger } from '@omnikit/server';

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 200);
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
  sites: [{ id: 'bench', publishableKey: 'pk_bench', allowedOrigins: [origin] }],
});

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
});

try {
  const tab = await browser.newPage();
  await tab.goto(origin);
  const result = await tab.evaluate(
    async ({ endpoint, rounds }) => {
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
    },
    { endpoint: server.url, rounds },
  );

  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
    return { p50: at(50), p95: at(95), max: s.at(-1) };
  };
  const ms = (n) => `${n.toFixed(1)} ms`;
  const tabs = stats(result.tabs);
  const devices = stats(result.devices);
  const row = (name, s, target) =>
    console.log(
      `${name.padEnd(13)} p50 ${ms(s.p50).padStart(9)}  p95 ${ms(s.p95).padStart(9)}  max ${ms(s.max).padStart(9)}  target p95 <= ${target} ms  ${s.p95 <= target ? 'ok' : 'OVER'}`,
    );
  console.log(`sdk propagation, ${rounds} rounds each, Chromium + @omnikit/server on loopback`);
  row('cross-tab', tabs, 20);
  row('cross-device', devices, 100);
  console.log(
    `sdk-propagation: rounds=${rounds} crossTabP95=${tabs.p95.toFixed(1)}ms crossDeviceP95=${devices.p95.toFixed(1)}ms`,
  );
} finally {
  await browser.close();
  await server.close();
  page.close();
}
