// Pokes cannot be silenced: brands' sites run their own service workers (PWAs, Workbox), and
// one between the SDK and its event stream may hold it (WebKitGTK opens no EventSource through a
// pass-through worker at all). Two devices, each a page controlled by such a worker, must still
// converge within the SDK's fallback pull interval, in every engine.
import { expect } from '@open-wc/testing';
import type { OmniClient } from '@omnikit/sdk';
import { cartOf, testConfig, uniqueNs, until } from '../../packages/sdk/test/helpers.js';

type DeviceWindow = Window & {
  omniReady: Promise<OmniClient>;
  seen: { streams: number; opened: number; pulls: number };
};

/** The SDK's pull interval while its stream does not work, in these tests (ms). */
const poll = 2000;
/** A push and a pull on a loaded machine take well under this (ms). */
const slack = 2000;

const frames: HTMLIFrameElement[] = [];

async function devicePage(mode: 'pass' | 'hold'): Promise<DeviceWindow> {
  const frame = document.createElement('iframe');
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  frame.src = `/__omni/sw/${mode}/device.html?ns=${encodeURIComponent(uniqueNs(`sw-${mode}`))}&poll=${poll}`;
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  return frame.contentWindow as DeviceWindow;
}

afterEach(async () => {
  for (const frame of frames.splice(0)) {
    const win = frame.contentWindow as DeviceWindow;
    await (await win.omniReady).close();
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
      const [wa, wb] = await Promise.all([devicePage(mode), devicePage(mode)]);
      const [a, b] = await Promise.all([wa.omniReady, wb.omniReady]);
      a.cart.add('SW-JOIN', 1);
      await b.identity.claimHandoff((await a.identity.createHandoff()).code);
      await a.sync();
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
