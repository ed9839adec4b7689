// The handoff link helper (`@omnikit/sdk/handoff`) against the real server: a page opened with
// `?omni_handoff=CODE` claims it once (once per browser, however many tabs), takes it out of the
// address bar and reports the outcome as the client's `handoff` event.
import { expect } from '@open-wc/testing';
import {
  createClient,
  type ClientOptions,
  type HandoffOutcome,
  type Network,
  type OmniClient,
} from '@omnikit/sdk';
import { claimHandoffFromUrl, takeHandoffCode } from '@omnikit/sdk/handoff';
import {
  cartOf,
  customerToken,
  testConfig,
  testNetwork,
  uniqueCustomer,
  uniqueNs,
  type TestConfig,
} from './helpers.js';

let cfg: TestConfig;
const clients: OmniClient[] = [];
const home = location.href;

before(async () => {
  cfg = await testConfig();
});

afterEach(async () => {
  history.replaceState(null, '', home);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function device(options: Partial<ClientOptions> = {}): OmniClient {
  const c = createClient({
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites.sum.publishableKey,
    namespace: uniqueNs('handoff'),
    retry: { baseMs: 20, maxMs: 200 },
    timeoutMs: 3000,
    ...options,
  });
  clients.push(c);
  return c;
}

/** This page's URL with `?omni_handoff=code` and a hash that must survive. */
function linkOf(code: string) {
  const url = new URL(home);
  url.searchParams.set('omni_handoff', code);
  url.hash = 'reviews';
  return url.href;
}
const open = (code: string) => history.replaceState(null, '', linkOf(code));

/** A tab of its own (location, history, locks) opened at `href`, for two tabs on one page. */
function tab(href: string) {
  const history = {
    state: null,
    replaceState: (_s: unknown, _t: string, url: string) => void (win.location.href = url),
  };
  const win = { location: { href }, history, navigator } as unknown as Window;
  return win;
}

type TabWindow = Window & {
  omni: OmniClient;
  omniReady: Promise<OmniClient>;
  /** The page's own `claimHandoffFromUrl(omni)` (its own copy of the SDK, as a real tab). */
  claimHandoff(): Promise<HandoffOutcome | null>;
};
const frames: HTMLIFrameElement[] = [];
afterEach(() => frames.splice(0).forEach((f) => f.remove()));

/** A real page of the origin with a client on `ns`, opened with `?omni_handoff=code`. */
async function tabAt(ns: string, code: string): Promise<TabWindow> {
  const frame = document.createElement('iframe');
  frame.src = `/test/browser/sdk-tab.html?ns=${encodeURIComponent(ns)}&omni_handoff=${code}`;
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  const win = frame.contentWindow as TabWindow;
  await win.omniReady;
  return win;
}

/** The outcome and what the `handoff` event said. */
async function claim(client: OmniClient, win?: Window | TabWindow) {
  const heard: HandoffOutcome[] = [];
  const stop = client.on('handoff', (o) => heard.push(o));
  const outcome = await (win && 'claimHandoff' in win
    ? win.claimHandoff()
    : claimHandoffFromUrl(client, win));
  stop();
  expect(heard).to.deep.equal(outcome ? [outcome] : []);
  return outcome;
}

describe('claimHandoffFromUrl', () => {
  it('joined: claims the code, keeps the rest of the URL and the cart follows', async () => {
    const a = device();
    await a.cart.add('LINKED', 2);
    const { code } = await a.identity.createHandoff();
    open(code);
    const b = device();
    expect(await claim(b)).to.deep.equal({ code, outcome: 'joined' });
    expect(location.href).to.equal(`${home}#reviews`);
    expect(cartOf(b.state)).to.deep.equal({ LINKED: 2 });
    // Nothing left to claim: a second run (a re-executed script) sends nothing.
    expect(await claim(b)).to.equal(null);
  });

  it("copied: a signed-in customer's cart is copied, not joined", async () => {
    const a = device();
    await a.identity.identify(await customerToken(uniqueCustomer()));
    await a.cart.add('COPIED', 1);
    const { code } = await a.identity.createHandoff();
    open(code);
    const b = device();
    expect(await claim(b)).to.deep.equal({ code, outcome: 'copied' });
    expect(cartOf(b.state)).to.deep.equal({ COPIED: 1 });
    expect(b.identity.profileId).to.not.equal(a.identity.profileId);
  });

  it('used: a code claimed already (by another browser) is reported with its error', async () => {
    const a = device();
    const { code } = await a.identity.createHandoff();
    await device().identity.claimHandoff(code);
    open(code);
    const outcome = await claim(device());
    expect(outcome?.outcome).to.equal('used');
    expect(outcome?.outcome === 'used' && outcome.error.code).to.equal('conflict');
    expect(location.href).to.equal(`${home}#reviews`);
  });

  it('unknown: a code the server never made', async () => {
    open('ZZZZZZZZ');
    const outcome = await claim(device());
    expect(outcome?.outcome).to.equal('unknown');
    expect(outcome?.outcome === 'unknown' && outcome.error.code).to.equal('not_found');
  });

  it('expired: the server says the code is gone', async () => {
    // The real server's codes live 10 minutes: its answer for an expired one, through the seam.
    const net: Network = {
      ...testNetwork(),
      fetch: async (url, init) =>
        new URL(url).pathname === '/v1/handoff/claim'
          ? Response.json(
              { error: { code: 'gone', message: 'This handoff code has expired' } },
              { status: 410 },
            )
          : fetch(url, init),
    };
    open('OLDCODE1');
    const outcome = await claim(device({ network: net }));
    expect(outcome?.outcome).to.equal('expired');
    expect(outcome?.outcome === 'expired' && outcome.error.code).to.equal('gone');
  });

  it('two tabs opened with one link: one claim, both report it, both URLs clean', async () => {
    const a = device();
    await a.cart.add('TWO-TABS', 1);
    const { code } = await a.identity.createHandoff();
    // Two real pages of the origin (test/browser/sdk-tab.html), each with its own client on one
    // namespace (one browser), both opened with the link.
    const ns = uniqueNs('tabs');
    const [one, two] = await Promise.all([tabAt(ns, code), tabAt(ns, code)]);
    const outcomes = await Promise.all([one, two].map((w) => claim(w.omni, w)));
    expect(outcomes).to.deep.equal([
      { code, outcome: 'joined' },
      { code, outcome: 'joined' },
    ]);
    const claimsOf = (w: Window) =>
      w.performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/v1/handoff/claim'))
        .length;
    expect(claimsOf(one) + claimsOf(two)).to.equal(1);
    for (const w of [one, two]) {
      expect(new URL(w.location.href).searchParams.has('omni_handoff')).to.equal(false);
      expect(new URL(w.location.href).searchParams.get('ns')).to.equal(ns);
      expect(cartOf(w.omni.state)).to.deep.equal({ 'TWO-TABS': 1 });
    }
    // The link opened again later (the parameter back in a URL) does not claim again either.
    expect(await claim(one.omni, tab(linkOf(code)))).to.deep.equal({ code, outcome: 'joined' });
    expect(claimsOf(one) + claimsOf(two)).to.equal(1);
  });

  it('without consent sends nothing and leaves the code for a later visit', async () => {
    const net = testNetwork();
    open('LATER123');
    expect(await claim(device({ consent: 'pending', network: net }))).to.equal(null);
    expect(takeHandoffCode()).to.equal('LATER123');
    expect(net.requests).to.deep.equal([]);
  });

  it('a page without a code does nothing', async () => {
    const net = testNetwork();
    expect(await claim(device({ network: net }))).to.equal(null);
    expect(location.href).to.equal(home);
    expect(net.requests).to.deep.equal([]);
  });
});
