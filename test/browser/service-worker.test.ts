// Pokes cannot be silenced: brands' sites run their own service workers (PWAs, Workbox), and
// one between the SDK and its event stream may hold it (WebKitGTK opens no EventSource through a
// pass-through worker at all). Two devices, each a page controlled by such a worker, must still
// converge within the SDK's fallback pull interval, in every engine; and a stock watch must
// still see each change within its poll interval.
import { expect } from '@open-wc/testing';
import type { ConnectionOptions, OmniClient, OmniError, StockAnswer } from '@omnikit/sdk';
import type { Catalog } from '@omnikit/sdk/catalog';
import { admin, cartOf, testConfig, uniqueNs, until } from '../../packages/sdk/test/helpers.js';

type DeviceWindow = Window & {
  omniReady: Promise<OmniClient>;
  stage?: string;
  seen: {
    streams: number;
    opened: number;
    pulls: number;
    stockStreams: number;
    stockOpened: number;
    stockPolls: number;
  };
  /** createCatalog with the page's network (so behind its worker). */
  omniCatalog(options: Omit<ConnectionOptions, 'network'>): Catalog;
};

/** The SDK's pull interval while its stream does not work, in these tests (ms). */
const poll = 2000;
/** A push and a pull on a loaded machine take well under this (ms). */
const slack = 2000;

const frames: HTMLIFrameElement[] = [];

/** `promise`, or an error naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Registers the site's worker for `mode`'s folder and waits until it is active, so that the
 * device pages opened next are controlled from their first request. (A page whose navigation
 * began before the worker activated is not claimed by `clients.claim()` if it was not yet
 * running then, and would stay uncontrolled.)
 */
async function activeWorker(mode: 'pass' | 'hold'): Promise<void> {
  const registration = await navigator.serviceWorker.register(`/__omni/sw/${mode}/sw.js`);
  const worker = registration.installing ?? registration.waiting ?? registration.active!;
  if (worker.state === 'activated') return;
  const activated = new Promise<void>((resolve) =>
    worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()),
  );
  await within(activated, 10_000, () => `the site's worker did not activate (${worker.state})`);
}

async function devicePage(mode: 'pass' | 'hold'): Promise<DeviceWindow> {
  const { endpoint, sites } = await testConfig();
  const frame = document.createElement('iframe');
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  const query = new URLSearchParams({
    ns: uniqueNs(`sw-${mode}`),
    endpoint,
    key: sites.sum.publishableKey,
    poll: String(poll),
  });
  frame.src = `/__omni/sw/${mode}/device.html?${query}`;
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  return frame.contentWindow as DeviceWindow;
}

/** The device's started client; a device that does not start fails with how far it got. */
const startedClient = (w: DeviceWindow) =>
  within(w.omniReady, 15_000, () => `the device page did not start (stage: ${w.stage})`);

afterEach(async () => {
  for (const frame of frames.splice(0)) {
    const win = frame.contentWindow as DeviceWindow;
    // A device that never started has nothing to close; its failure is the test's.
    const client = await within(win.omniReady, 1000, () => 'not started').catch(() => undefined);
    await client?.close();
    frame.remove();
  }
});

after(async () => {
  // The workers' scopes cover only /__omni/sw/<mode>/, but leave nothing behind for other files.
  const registrations = await navigator.serviceWorker.getRegistrations();
  await Promise.all(registrations.map((r) => r.unregister()));
});

const modes = {
  pass: 'a pass-through service worker',
  hold: 'a service worker that holds the event stream (open, silent)',
} as const;

describe('sync behind a site service worker', () => {
  for (const [mode, what] of Object.entries(modes) as [keyof typeof modes, string][]) {
    it(`with ${what}, two devices converge within the fallback interval`, async function () {
      this.timeout(40_000);
      await activeWorker(mode);
      const [wa, wb] = await Promise.all([devicePage(mode), devicePage(mode)]);
      const [a, b] = await Promise.all([startedClient(wa), startedClient(wb)]);
      a.cart.add('SW-JOIN', 1);
      const step = <T>(p: Promise<T>, label: string) => within(p, 10_000, () => label);
      const { code } = await step(a.identity.createHandoff(), 'A creating a handoff');
      await step(b.identity.claimHandoff(code), 'B claiming the handoff');
      await step(a.sync(), "A's sync");
      const pullsBefore = wb.seen.pulls;

      const started = performance.now();
      a.cart.add('SW-A', 1);
      await until(b, (s) => cartOf(s)['SW-A'] === 1, 'B sees A', poll + slack + 4000);
      const aToB = performance.now() - started;
      const pulled = wb.seen.pulls - pullsBefore;

      b.cart.add('SW-B', 2);
      const back = performance.now();
      await until(a, (s) => cartOf(s)['SW-B'] === 2, 'A sees B', poll + slack + 4000);
      const bToA = performance.now() - back;

      const { engine } = await testConfig();
      // eslint-disable-next-line no-console -- the measured figures, per engine
      console.log(
        `sw-${mode}: engine=${engine} streamsOpened=${wb.seen.opened}/${wb.seen.streams} aToB=${aToB.toFixed(0)}ms bToA=${bToA.toFixed(0)}ms pullsWhileWaiting=${pulled} fallbackPullMs=${poll}`,
      );
      expect(aToB).to.be.below(poll + slack);
      expect(bToA).to.be.below(poll + slack);
      expect(cartOf(b.state)).to.deep.equal(cartOf(a.state));
    });
  }
});

describe('stock watches behind a site service worker', () => {
  for (const [mode, what] of Object.entries(modes) as [keyof typeof modes, string][]) {
    it(`with ${what}, a stock change reaches the watch within its poll interval`, async function () {
      this.timeout(30_000);
      await activeWorker(mode);
      const w = await devicePage(mode);
      await startedClient(w);
      const { endpoint, sites, engine } = await testConfig();
      const catalog = w.omniCatalog({ endpoint, publishableKey: sites.shop.publishableKey });
      const got: StockAnswer[] = [];
      let heard = () => {};
      const answer = (what: string, ok: (a: StockAnswer) => boolean) =>
        within(
          new Promise<StockAnswer>((resolve) => {
            const check = () => {
              const a = got.find(ok);
              if (a) resolve(a);
            };
            heard = check;
            check();
          }),
          poll + slack,
          () => what,
        );
      const london = (a: StockAnswer) => a.stores.find((s) => s.store.id === 'london')!;
      // onError runs in the page's SDK: its errors are kept here, to be checked at the end.
      const errors: OmniError[] = [];
      const stop = catalog.stock.watch(['SWPOLL-1'], (a) => (got.push(a), heard()), {
        pollMs: poll,
        onError: (e) => errors.push(e),
      });
      await answer('no first answer', () => true);

      // Each mode sets its own count, so the other mode's (an earlier test) is not mistaken for it.
      const qty = mode === 'pass' ? 1 : 2;
      const res = await admin('PUT', '/v1/admin/stock', {
        location: 'london',
        sku: 'SWPOLL-1',
        qty,
        updatedAt: Date.now(),
      });
      expect(res.status).to.equal(200);
      const changed = performance.now();
      const fresh = await answer(`the watch did not see qty ${qty}`, (a) => {
        const av = london(a).availability;
        return av.band === 'low_stock' && av.count === qty;
      });
      const changeToWatch = performance.now() - changed;
      stop();
      catalog.close();
      // eslint-disable-next-line no-console -- the measured figures, per engine
      console.log(
        `sw-stock-${mode}: engine=${engine} streamsOpened=${w.seen.stockOpened}/${w.seen.stockStreams} changeToWatch=${changeToWatch.toFixed(0)}ms stockPolls=${w.seen.stockPolls} streamErrors=${errors.length} pollMs=${poll}`,
      );
      // Only a stream that could not connect (WebKit through a pass-through worker): the watch
      // went on.
      expect(errors.filter((e) => !e.retryable).map((e) => e.message)).to.deep.equal([]);
      expect(fresh.sku).to.equal('SWPOLL-1');
      expect(changeToWatch).to.be.below(poll + slack);
    });
  }
});
