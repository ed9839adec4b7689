// Faults the real server cannot produce on demand, injected with msw in front of it: every
// handler here forwards to the real server (bypass) unless the fault is that it never does.
// After each fault the server's own state is checked: no change lost, none applied twice.
import { expect } from '@open-wc/testing';
import { bypass, http, HttpResponse } from 'msw';
import { setupWorker } from 'msw/browser';
import {
  browserNetwork,
  createClient,
  type ClientOptions,
  type Network,
  type OmniClient,
  type OmniError,
} from '@omnikit/sdk';
import {
  cartOf,
  customerToken,
  quietLogger,
  serverSnapshot,
  storedDevice,
  testConfig,
  testNetwork,
  uniqueCustomer,
  uniqueNs,
  until,
  type TestConfig,
} from './helpers.js';

const worker = setupWorker();
let cfg: TestConfig;
const clients: OmniClient[] = [];

before(async () => {
  cfg = await testConfig();
  await worker.start({ quiet: true, onUnhandledRequest: 'bypass' });
});
afterEach(async () => {
  worker.resetHandlers();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
// stop() leaves msw's service worker in control of the next test pages of this origin, and
// WebKit streams no EventSource through it: later files would never get a poke.
after(async () => {
  worker.stop();
  const registrations = await navigator.serviceWorker.getRegistrations();
  await Promise.all(registrations.map((r) => r.unregister()));
});

// Streams stay off here: through msw's worker a closed EventSource keeps its connection open,
// and Chrome's six connections per host run out. Devices pull instead (sync()); the stream
// itself is tested without msw in sync.test.ts.
const noStream = (): Network => ({
  ...browserNetwork(),
  eventSource: () => Object.assign(new EventTarget(), { close() {} }) as unknown as EventSource,
});

function device(options: Partial<ClientOptions> = {}): OmniClient {
  const c = createClient({
    network: noStream(),
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites.sum.publishableKey,
    namespace: uniqueNs('fault'),
    retry: { baseMs: 20, maxMs: 100 },
    timeoutMs: 2000,
    logger: quietLogger(),
    ...options,
  });
  clients.push(c);
  return c;
}

const push = () => `${cfg.endpoint}/v1/sync/push`;
const serverCart = async (ns: string) =>
  Object.fromEntries((await serverSnapshot(ns)).state.cart.lines.map((l) => [l.key, l.qty]));

/** Registers the device and syncs one change, so the fault hits a push of a known device. */
async function ready(ns: string, options: Partial<ClientOptions> = {}) {
  const c = device({ namespace: ns, ...options });
  c.cart.add('BASE', 1);
  await c.sync();
  return c;
}

/** From now on the server answers 401 to `token`, as one restored from a backup would. */
function serverForgets(token: string, details: unknown = { reason: 'unknown_device' }) {
  const message = details
    ? 'Unknown device token'
    : 'The site of this device is no longer configured';
  worker.use(
    http.all(`${cfg.endpoint}/*`, ({ request }) =>
      request.headers.get('authorization') === `Bearer ${token}`
        ? HttpResponse.json({ error: { code: 'unauthorized', message, details } }, { status: 401 })
        : undefined,
    ),
  );
}

/** Collects the errors the client surfaces in its status while it retries. */
function errorsOf(c: OmniClient): OmniError[] {
  const seen: OmniError[] = [];
  c.on('status-change', (d) => {
    if (d.error) seen.push(d.error);
  });
  return seen;
}

/** A handler that lets the next push reach the server, then answers the client with `reply`. */
/** The next push answered 429 with `Retry-After: 1` (noting when in `times`, if given). */
const rateLimitedOnce = (times?: number[]) =>
  http.post(
    push(),
    () => {
      times?.push(performance.now());
      return HttpResponse.json(
        { error: { code: 'rate_limited', message: 'slow down' } },
        { status: 429, headers: { 'Retry-After': '1' } },
      );
    },
    { once: true },
  );

/** Every push after it reaches the server, noting when in `times`. */
const timedPushes = (times: number[]) =>
  http.post(push(), async ({ request }) => {
    times.push(performance.now());
    return fetch(bypass(request));
  });

/**
 * Adds `sku` and waits for the 429, with the client's random draws fixed at `draw` meanwhile
 * (the Retry-After's jitter is drawn when the refusal arrives).
 */
async function refusedWithDraw(c: OmniClient, sku: string, draw: number) {
  const random = Math.random;
  Math.random = () => draw;
  try {
    c.cart.add(sku, 3);
    await until(c, (s) => s.status.error?.code === 'rate_limited', 'the 429');
  } finally {
    Math.random = random;
  }
}

const appliedThen = (reply: () => Response | Promise<Response>) =>
  http.post(
    push(),
    async ({ request }) => {
      await fetch(bypass(request));
      return reply();
    },
    { once: true },
  );

async function changesSurvive(c: OmniClient, ns: string) {
  c.cart.add('A', 2);
  c.cart.add('A', 1);
  c.cart.add('B', 1);
  await until(c, (s) => s.status.pending === 0 && s.status.state === 'online', 'recovered');
  expect(await serverCart(ns)).to.deep.equal({ BASE: 1, A: 3, B: 1 });
  expect(cartOf(c.state)).to.deep.equal({ BASE: 1, A: 3, B: 1 });
}

describe('faults: pushes', () => {
  it('a 500 before the server sees the push: retried, typed error in status', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    const errors = errorsOf(c);
    worker.use(
      http.post(
        push(),
        () => HttpResponse.json({ error: { code: 'internal', message: 'boom' } }, { status: 500 }),
        {
          once: true,
        },
      ),
    );
    await changesSurvive(c, ns);
    expect(errors[0]).to.include({ code: 'internal', status: 500, retryable: true });
    expect(c.status.error).to.equal(null);
  });

  it('a retry timer that fires before performance.now() says it is due still retries', async () => {
    // Firefox rounds and jitters performance.now(): a timer can look early by a millisecond or
    // more. Here the clock lags 50 ms behind from just after the failure set its backoff.
    const ns = uniqueNs();
    const c = await ready(ns);
    const now = performance.now.bind(performance);
    let lag = 0;
    performance.now = () => now() - lag;
    try {
      c.on('status-change', (d) => {
        if (d.error) queueMicrotask(() => (lag = 50));
      });
      worker.use(
        http.post(
          push(),
          () =>
            HttpResponse.json({ error: { code: 'internal', message: 'boom' } }, { status: 500 }),
          { once: true },
        ),
      );
      await changesSurvive(c, ns);
    } finally {
      performance.now = now;
    }
  });

  it('a response dropped after the server applied the push: no duplicate', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    worker.use(appliedThen(() => HttpResponse.error()));
    await changesSurvive(c, ns);
  });

  it('a 500 after the server applied the push: no duplicate', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    worker.use(
      appliedThen(() =>
        HttpResponse.json({ error: { code: 'unavailable', message: 'x' } }, { status: 503 }),
      ),
    );
    await changesSurvive(c, ns);
  });

  it('a push that times out after being applied: no duplicate', async () => {
    const ns = uniqueNs();
    const c = await ready(ns, { timeoutMs: 300 });
    const errors = errorsOf(c);
    worker.use(appliedThen(() => new Promise<Response>(() => {})));
    await changesSurvive(c, ns);
    expect(errors.map((e) => e.code)).to.include('network');
  });

  it('a push whose fetch ignores its signal still times out, and the retry gets through', async () => {
    // WebKit can leave a fetch pending, its abort ignored, when a service worker never answers.
    const ns = uniqueNs();
    let hang = false;
    const net = testNetwork();
    const network: Network = {
      ...net,
      fetch: (input, init) =>
        input.endsWith('/v1/sync/push') && hang
          ? ((hang = false), new Promise<Response>(() => {}))
          : net.fetch(input, init),
    };
    const c = await ready(ns, { timeoutMs: 300, network });
    const errors = errorsOf(c);
    hang = true;
    c.cart.add('A', 2);
    await until(c, (s) => s.status.pending === 0 && s.status.state === 'online', 'recovered');
    expect(errors.map((e) => e.code)).to.include('network');
    expect(await serverCart(ns)).to.deep.equal({ BASE: 1, A: 2 });
  });

  it('a push delivered twice: applied once', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    worker.use(
      http.post(push(), async ({ request }) => {
        await fetch(bypass(request.clone()));
        return fetch(bypass(request));
      }),
    );
    await changesSurvive(c, ns);
  });

  it('a malformed success body: retried, no duplicate', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    const errors = errorsOf(c);
    worker.use(
      appliedThen(() => HttpResponse.json({ version: 'seven', results: null })),
      http.get(`${cfg.endpoint}/v1/sync/pull`, () => HttpResponse.text('<html>proxy error'), {
        once: true,
      }),
    );
    await changesSurvive(c, ns);
    expect(errors[0]).to.include({ code: 'internal', retryable: true });
  });

  it('honours Retry-After on 429', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    const times: number[] = [];
    worker.use(rateLimitedOnce(times), timedPushes(times));
    const errors = errorsOf(c);
    c.cart.add('A', 3);
    await until(c, (s) => s.status.error?.code === 'rate_limited', 'the 429');
    // A change made while the server asked to wait must wait too.
    c.cart.add('B', 1);
    await until(c, (s) => s.status.pending === 0 && s.status.state === 'online', 'recovered');
    expect(await serverCart(ns)).to.deep.equal({ BASE: 1, A: 3, B: 1 });
    expect(errors[0]).to.include({ code: 'rate_limited', status: 429, retryable: true });
    expect(times).to.have.length.at.least(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).to.be.at.least(950);
  });

  it('close() while a Retry-After is waited out stops the retry timer', async () => {
    const c = await ready(uniqueNs());
    worker.use(rateLimitedOnce());
    // The timers set for the Retry-After (1 s, up to a fifth later), and those cleared.
    const { setTimeout: set, clearTimeout: clear } = window;
    const armed: unknown[] = [];
    const cleared = new Set<unknown>();
    window.setTimeout = ((f: () => void, ms?: number) => {
      const id = set(f, ms);
      if (ms !== undefined && ms >= 1000 && ms <= 1200) armed.push(id);
      return id;
    }) as typeof setTimeout;
    window.clearTimeout = ((id?: number) => (cleared.add(id), clear(id))) as typeof clearTimeout;
    try {
      c.cart.add('A', 3);
      await until(c, (s) => s.status.error?.code === 'rate_limited', 'the 429');
      expect(armed).to.have.length(1);
      await c.close();
      expect(cleared.has(armed[0])).to.equal(true);
    } finally {
      window.setTimeout = set;
      window.clearTimeout = clear;
    }
  });

  it('spreads the retries after a Retry-After: up to a fifth later, never earlier', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    const times: number[] = [];
    worker.use(rateLimitedOnce(times), timedPushes(times));
    // The client's draw at its most: the retry comes a fifth of the Retry-After later.
    await refusedWithDraw(c, 'A', 0.99);
    await until(c, (s) => s.status.pending === 0 && s.status.state === 'online', 'recovered');
    expect(await serverCart(ns)).to.deep.equal({ BASE: 1, A: 3 });
    expect((times[1] ?? 0) - (times[0] ?? 0)).to.be.at.least(1150);
  });

  it('sync() waiting out a Retry-After joins the run the retry starts, never a second one', async () => {
    const ns = uniqueNs();
    const c = await ready(ns);
    let inFlight = 0;
    let most = 0;
    worker.use(
      rateLimitedOnce(),
      http.post(push(), async ({ request }) => {
        most = Math.max(most, ++inFlight);
        // A little latency, so two runs started together would be seen pushing together.
        await new Promise((r) => setTimeout(r, 100));
        const res = await fetch(bypass(request));
        inFlight--;
        return res;
      }),
    );
    // No jitter on the Retry-After here (its least draw): the timer trick below tells the
    // retry timer's full second from sync()'s rest of it.
    await refusedWithDraw(c, 'A', 0);
    // sync() waits until the Retry-After is over, as the retry timer does. Both end together;
    // which fires first is up to the browser's timer rounding and load: here sync()'s wait
    // (the only one under 1000 ms: the rest of the 1 s) ends a little after the timer's run
    // has started, as it does on a busy page, and must join that run.
    const setTimer = window.setTimeout;
    window.setTimeout = ((f: () => void, ms?: number) =>
      setTimer(f, ms && ms > 500 && ms < 1000 ? ms + 50 : ms)) as typeof setTimeout;
    try {
      await c.sync();
    } finally {
      window.setTimeout = setTimer;
    }
    expect(await serverCart(ns)).to.deep.equal({ BASE: 1, A: 3 });
    expect(most).to.equal(1);
  });

  it('sync() leaves no abort listener on the signal it was given', async () => {
    const c = await ready(uniqueNs());
    const signal = new AbortController().signal;
    const live = new Set<unknown>();
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (type: string, l: EventListenerOrEventListenerObject) => {
      live.add(l);
      add(type, l);
    };
    signal.removeEventListener = (type: string, l: EventListenerOrEventListenerObject) => {
      live.delete(l);
      remove(type, l);
    };
    for (let i = 0; i < 3; i++) {
      c.cart.add('L', 1);
      await c.sync({ signal });
    }
    expect(live.size).to.equal(0);
  });
});

describe('faults: what the server refuses', () => {
  it('a rejected mutation is dropped with a sync-error that names it', async () => {
    const customer = uniqueCustomer();
    const network = testNetwork(true);
    network.eventSource = noStream().eventSource;
    const a = device();
    const b = device({ network });
    await a.identity.identify(await customerToken(customer));
    await b.identity.identify(await customerToken(customer));
    for (let i = 0; i < 99; i++) a.cart.add(`L${i}`, 1);
    await a.sync();
    await b.sync();
    expect(b.cart.lines).to.have.length(99);
    network.setOnline(false);
    a.cart.add('FROM-A', 1);
    await a.sync();
    const errors: { sku: unknown; code: string }[] = [];
    b.on('sync-error', (d) =>
      errors.push({
        sku: (d.mutation?.args as { sku?: string }).sku,
        code: d.error.code,
      }),
    );
    b.cart.add('FROM-B', 1);
    expect(b.cart.lines).to.have.length(100);
    network.setOnline(true);
    await b.sync();
    expect(errors).to.deep.equal([{ sku: 'FROM-B', code: 'invalid_argument' }]);
    expect(cartOf(b.state)['FROM-B']).to.equal(undefined);
    expect(b.cart.lines).to.have.length(100);
  });

  it('a server that no longer knows the device (401): a new device carries everything over', async () => {
    const ns = uniqueNs('fault');
    const c = await ready(ns);
    const tab = device({ namespace: ns });
    await tab.start();
    c.cart.add('KEEP', 2, { options: { size: 'M' } });
    c.recentlyViewed.track('SEEN-1');
    c.recentlyViewed.track('SEEN-2');
    await c.sync();
    // The server is restored from a backup taken before this device registered.
    const forgotten = await storedDevice(ns);
    serverForgets(forgotten.token);
    // Changes made now meet the 401 in the background sync; none may be dropped.
    c.cart.add('NEW', 1);
    c.cart.setPickupStore('store-2');
    await until(
      c,
      (s) => s.identity.deviceId !== forgotten.deviceId && s.status.pending === 0,
      'a new device, everything pushed',
    );
    const now = await storedDevice(ns);
    expect(now.deviceId).to.not.equal(forgotten.deviceId);
    const server = await serverSnapshot(ns);
    const bySku = Object.fromEntries(server.state.cart.lines.map((l) => [l.sku, l.qty]));
    expect(bySku).to.deep.equal({ BASE: 1, KEEP: 2, NEW: 1 });
    expect(server.state.cart.lines.find((l) => l.sku === 'KEEP')?.options).to.deep.equal({
      size: 'M',
    });
    expect(server.state.cart.pickupStore).to.equal('store-2');
    expect(server.state.viewed.map((v) => v.sku)).to.deep.equal(['SEEN-2', 'SEEN-1']);
    await until(tab, (s) => s.identity.deviceId === now.deviceId, 'the other tab follows');
    expect(cartOf(tab.state)).to.deep.equal(
      Object.fromEntries(server.state.cart.lines.map((l) => [l.key, l.qty])),
    );

    // The same through an explicit sync(): it heals instead of failing.
    serverForgets(now.token);
    c.cart.remove('BASE');
    await c.sync();
    expect((await storedDevice(ns)).deviceId).to.not.equal(now.deviceId);
    const healed = await serverSnapshot(ns);
    expect(healed.state.cart.lines.map((l) => [l.sku, l.qty])).to.deep.equal([
      ['KEEP', 2],
      ['NEW', 1],
    ]);
    expect(c.status.pending).to.equal(0);
  });

  it('another 401 (a site no longer configured) is reported, never healed', async () => {
    const ns = uniqueNs('fault');
    const c = await ready(ns);
    const before = await storedDevice(ns);
    serverForgets(before.token, null);
    const errors: OmniError[] = [];
    c.on('sync-error', (d) => errors.push(d.error));
    c.cart.add('KEEP', 1);
    await until(c, (s) => s.status.state === 'error', 'error state');
    expect(errors.map((e) => [e.code, e.retryable])).to.deep.equal([['unauthorized', false]]);
    expect((await storedDevice(ns)).deviceId).to.equal(before.deviceId);
    expect(cartOf(c.state)).to.deep.equal({ BASE: 1, KEEP: 1 });
    expect(c.status.pending).to.equal(1);
  });

  it('a wrong publishable key surfaces a typed, non-retryable error', async () => {
    const c = device({ publishableKey: 'pk_nobody' });
    const errors: OmniError[] = [];
    c.on('sync-error', (d) => errors.push(d.error));
    c.cart.add('A', 1);
    await until(c, (s) => s.status.state === 'error', 'error state');
    expect(errors).to.have.length(1);
    expect(errors[0]?.retryable).to.equal(false);
    expect(errors[0]?.status).to.be.within(400, 499);
    expect(c.cart.count).to.equal(1);
  });
});
