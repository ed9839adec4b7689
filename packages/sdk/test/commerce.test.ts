// Catalog, stock near me and recommendations against the real server's commerce extension and
// its fixture (the `shop` site of test/browser/server-plugin.mjs).
import { expect } from '@open-wc/testing';
import {
  createClient,
  OmniError,
  type ClientOptions,
  type OmniClient,
  type StockAnswer,
} from '@omnikit/sdk';
import { createCatalog } from '@omnikit/sdk/catalog';
import {
  admin,
  testConfig,
  testNetwork,
  uniqueNs,
  type TestConfig,
  type TestNetwork,
} from './helpers.js';

let cfg: TestConfig;
const clients: OmniClient[] = [];

before(async () => {
  cfg = await testConfig();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function shopper(options: Partial<ClientOptions> = {}): OmniClient {
  const c = createClient({
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites.shop.publishableKey,
    namespace: uniqueNs('shop'),
    storage: 'memory',
    currency: 'GBP',
    retry: { baseMs: 20, maxMs: 200 },
    timeoutMs: 3000,
    ...options,
  });
  clients.push(c);
  return c;
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<OmniError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(OmniError);
    return e as OmniError;
  }
  throw new Error('expected a rejection');
}

const productRequests = (net: TestNetwork) =>
  net.urls.filter((u) => new URL(u).pathname === '/v1/products');

describe('products.get', () => {
  it('answers in the order asked, without the unknown skus, and caches by sku', async () => {
    const net = testNetwork();
    const c = shopper({ network: net });
    const list = await createCatalog(c).products.get(['TEA-1', 'NOPE-1', 'MUG-1']);
    expect(list.map((p) => p.sku)).to.deep.equal(['TEA-1', 'MUG-1']);
    expect(list[0]).to.include({ title: 'Breakfast tea', price: 450, currency: 'GBP' });
    expect(list[0]!.description).to.be.a('string');
    expect(productRequests(net)).to.have.length(1);

    // Cached, the unknown sku too: no second request.
    const again = await createCatalog(c).products.get(['MUG-1', 'NOPE-1']);
    expect(again.map((p) => p.sku)).to.deep.equal(['MUG-1']);
    expect(again[0]).to.equal(list[1]);
    expect(productRequests(net)).to.have.length(1);

    // Only what is not cached is asked for.
    await createCatalog(c).products.get(['MUG-1', 'LAMP-1']);
    const urls = productRequests(net);
    expect(urls).to.have.length(2);
    expect(new URL(urls[1]!).searchParams.get('skus')).to.equal('LAMP-1');
  });

  it('shares one request between concurrent calls for the same skus', async () => {
    const net = testNetwork();
    const c = shopper({ network: net });
    const [a, b] = await Promise.all([
      createCatalog(c).products.get(['MUG-1', 'TEA-1']),
      createCatalog(c).products.get(['TEA-1', 'MUG-1', 'TEA-1']),
    ]);
    expect(a.map((p) => p.sku)).to.deep.equal(['MUG-1', 'TEA-1']);
    expect(b.map((p) => p.sku)).to.deep.equal(['TEA-1', 'MUG-1']);
    expect(b[1]).to.equal(a[0]);
    expect(productRequests(net)).to.have.length(1);
  });

  it('teaches the cart catalog prices, so subtotal works', async () => {
    const c = shopper();
    c.cart.add('MUG-1', 2);
    c.cart.add('SPOON-1');
    expect(c.cart.subtotal).to.equal(0);
    await createCatalog(c).products.get(['MUG-1', 'SPOON-1']);
    expect(c.cart.subtotal).to.equal(2 * 850 + 300);
    expect(c.cart.lines.map((l) => l.price)).to.deep.equal([850, 300]);
  });

  it('ignores prices in another currency than the cart', async () => {
    const c = shopper({ currency: 'EUR' });
    c.cart.add('MUG-1');
    await createCatalog(c).products.get(['MUG-1']);
    expect(c.cart.subtotal).to.equal(0);
  });

  it('refuses a bad sku with invalid_argument, without a request', async () => {
    const net = testNetwork();
    const c = shopper({ network: net });
    const error = await rejection(createCatalog(c).products.get(['MUG-1', 'not a sku']));
    expect(error.code).to.equal('invalid_argument');
    expect(error.retryable).to.equal(false);
    expect(productRequests(net)).to.have.length(0);
  });

  it('does not remember a failure: the next call asks again', async () => {
    const net = testNetwork();
    const c = shopper({ network: net });
    net.setOnline(false);
    const error = await rejection(createCatalog(c).products.get(['CANDLE-1']));
    expect(error.code).to.equal('network');
    expect(error.retryable).to.equal(true);
    net.setOnline(true);
    const list = await createCatalog(c).products.get(['CANDLE-1']);
    expect(list.map((p) => p.sku)).to.deep.equal(['CANDLE-1']);
  });

  it('answers an empty list without a request', async () => {
    const net = testNetwork();
    const c = shopper({ network: net });
    expect(await createCatalog(c).products.get([])).to.deep.equal([]);
    expect(productRequests(net)).to.have.length(0);
  });
});

const ids = (a: StockAnswer) => a.stores.map((s) => s.store.id);
const bandOf = (a: StockAnswer, id: string) => a.stores.find((s) => s.store.id === id)!;

describe('stock.near', () => {
  it('from a position: stores with stock first, then nearest, with honest bands', async () => {
    const c = shopper();
    const a = await createCatalog(c).stock.near({ sku: 'MUG-1', lat: 53.48, lng: -2.24 });
    expect(a.sku).to.equal('MUG-1');
    // In Manchester; Leeds has 2 left; Bristol (never reported) is nearer than London (none).
    expect(ids(a)).to.deep.equal(['manchester', 'leeds', 'bristol', 'london']);
    expect(bandOf(a, 'manchester').availability).to.deep.equal({ band: 'in_stock' });
    expect(bandOf(a, 'leeds').availability).to.deep.equal({ band: 'low_stock', count: 2 });
    expect(bandOf(a, 'london').availability).to.deep.equal({ band: 'out_of_stock' });
    expect(bandOf(a, 'london').updatedAt).to.be.a('number');
    expect(bandOf(a, 'bristol')).to.include({ updatedAt: null });
    expect(bandOf(a, 'bristol').availability).to.deep.equal({ band: 'out_of_stock' });
    expect(bandOf(a, 'manchester').distanceKm).to.be.below(1);
    expect(bandOf(a, 'leeds').distanceKm).to.be.within(50, 70);
    expect(a.online.availability).to.deep.equal({ band: 'in_stock' });
    expect(a.lowStockThreshold).to.equal(3);
    expect(a.origin).to.deep.equal({ lat: 53.48, lng: -2.24 });
  });

  it('from a postcode', async () => {
    const c = shopper();
    const a = await createCatalog(c).stock.near({ sku: 'MUG-1', postal: 'WC2N 5DU' });
    expect(a.origin).to.include({ area: 'WC' });
    expect(ids(a)).to.deep.equal(['manchester', 'leeds', 'london', 'bristol']);
    expect(bandOf(a, 'london').distanceKm).to.be.below(5);
  });

  it('without a position: no distances', async () => {
    const c = shopper();
    const a = await createCatalog(c).stock.near({ sku: 'TEA-1' });
    expect(a.origin).to.equal(null);
    expect(a.stores.every((s) => s.distanceKm === null)).to.equal(true);
    expect(ids(a)[0]).to.equal('london');
    expect(a.online.availability).to.deep.equal({ band: 'out_of_stock' });
  });

  it('fails with typed errors', async () => {
    const c = shopper();
    expect((await rejection(createCatalog(c).stock.near({ sku: 'bad sku!' }))).code).to.equal(
      'invalid_argument',
    );
    expect(
      (await rejection(createCatalog(c).stock.near({ sku: 'MUG-1', postal: 'nowhere' }))).code,
    ).to.equal('invalid_argument');
    expect((await rejection(createCatalog(c).stock.near({ sku: 'NOPE-1' }))).code).to.equal(
      'not_found',
    );
  });
});

/** A queue of the answers a watch delivers, to await one by one; `all`: every one so far. */
function answers() {
  const all: StockAnswer[] = [];
  const queue: StockAnswer[] = [];
  const waiting: ((a: StockAnswer) => void)[] = [];
  return {
    all,
    push(a: StockAnswer) {
      all.push(a);
      const w = waiting.shift();
      if (w) w(a);
      else queue.push(a);
    },
    next(): Promise<StockAnswer> {
      const a = queue.shift();
      return a ? Promise.resolve(a) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** How many `GET /v1/stock` (a watch's polls) the network sent. */
const polls = (net: TestNetwork) => net.requests.filter((p) => p === '/v1/stock').length;

/** Resolves once the network sent its `n`th `GET /v1/stock` (and that request was answered). */
function polled(net: TestNetwork, n: number): Promise<void> {
  const fetchOf = net.fetch.bind(net);
  return new Promise((resolve) => {
    net.fetch = async (input, init) => {
      const res = await fetchOf(input, init);
      if (polls(net) >= n) resolve();
      return res;
    };
  });
}

/** Sets a store's stock of `sku` through the admin API, as a POS does. */
async function setStock(location: string, sku: string, qty: number) {
  const res = await admin('PUT', '/v1/admin/stock', { location, sku, qty, updatedAt: Date.now() });
  expect(res.status).to.equal(200);
}

/** Lets `ms` pass: only to show that something did not happen in that time. */
const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('stock.watch', () => {
  it('sends the current answer, then each change a POS makes through the admin API', async () => {
    const net = testNetwork();
    const c = shopper({ network: net });
    const got = answers();
    const stop = createCatalog(c).stock.watch(['WATCH-1'], (a) => got.push(a), {
      near: { postal: 'BS1 4ST' },
    });
    const url = new URL(await net.streamOpened);
    expect(url.pathname).to.equal('/v1/stock/stream');
    expect(url.searchParams.get('key')).to.equal(cfg.sites.shop.publishableKey);

    const first = await got.next();
    expect(first.sku).to.equal('WATCH-1');
    expect(bandOf(first, 'bristol').availability).to.deep.equal({ band: 'out_of_stock' });
    expect(ids(first)[0]).to.equal('bristol');

    await setStock('bristol', 'WATCH-1', 2);
    const second = await got.next();
    expect(bandOf(second, 'bristol').availability).to.deep.equal({ band: 'low_stock', count: 2 });
    stop();
  });

  it('closes the stream on unsubscribe and on close()', async () => {
    const opened: EventSource[] = [];
    const net = testNetwork();
    const open = net.eventSource.bind(net);
    net.eventSource = (u) => {
      const es = open(u);
      opened.push(es);
      return es;
    };
    const c = shopper({ network: net });
    const stop = createCatalog(c).stock.watch(['MUG-1'], () => {});
    createCatalog(c).stock.watch(['TEA-1'], () => {});
    expect(opened).to.have.length(2);
    stop();
    expect(opened[0]!.readyState).to.equal(EventSource.CLOSED);
    expect(opened[1]!.readyState).to.not.equal(EventSource.CLOSED);
    await c.close();
    expect(opened[1]!.readyState).to.equal(EventSource.CLOSED);
  });
});

describe('stock.watch without a live stream', () => {
  /**
   * A network whose stock streams never speak unless the test makes them: `hold` ones open and
   * stay silent (as behind a site's service worker that holds event streams), `refuse` ones
   * fail at once (closed). `streams`: each one made, in order; `made(n)` resolves at the nth.
   */
  function streamsThat(kind: 'hold' | 'refuse') {
    const net = testNetwork();
    const streams: EventSource[] = [];
    const waiting: [number, () => void][] = [];
    net.eventSource = (url) => {
      net.urls.push(url);
      const es = Object.assign(new EventTarget(), {
        readyState: kind === 'hold' ? 1 : 2,
        close() {},
      }) as unknown as EventSource;
      if (kind === 'refuse') queueMicrotask(() => es.dispatchEvent(new Event('error')));
      streams.push(es);
      waiting.filter(([n]) => streams.length >= n).forEach(([, resolve]) => resolve());
      return es;
    };
    /** Resolves once the nth stream is made. */
    const made = (n: number) =>
      new Promise<void>((resolve) =>
        streams.length >= n ? resolve() : waiting.push([n, resolve]),
      );
    return Object.assign(net, { streams, made });
  }

  /**
   * Holds each `GET /v1/stock` of `net` until the test lets it go: `arrived(n)` resolves once
   * the nth is held, `release()` lets every held one go on (and the later ones, with `all`).
   * Requests reach `net.requests` once let go.
   */
  function holdPolls(net: TestNetwork) {
    const fetchOf = net.fetch.bind(net);
    const gates: (() => void)[] = [];
    const waiting: [number, () => void][] = [];
    const answering: [number, () => void][] = [];
    let count = 0;
    let done = 0;
    let open = false;
    const when = (list: [number, () => void][], n: number, now: number) =>
      new Promise<void>((resolve) => (now >= n ? resolve() : list.push([n, resolve])));
    net.fetch = async (input, init) => {
      if (new URL(input).pathname !== '/v1/stock' || open) return fetchOf(input, init);
      count++;
      waiting.filter(([n]) => count >= n).forEach(([, resolve]) => resolve());
      await new Promise<void>((resolve) => gates.push(resolve));
      try {
        return await fetchOf(input, init);
      } finally {
        done++;
        answering.filter(([n]) => done >= n).forEach(([, resolve]) => resolve());
      }
    };
    return {
      arrived: (n: number) => when(waiting, n, count),
      /** Resolves once the nth held request has its answer. */
      answered: (n: number) => when(answering, n, done),
      release(all = false) {
        open = all;
        gates.splice(0).forEach((go) => go());
      },
    };
  }

  /**
   * Answers the first `GET /v1/stock` of `net` with 429 and `Retry-After: 1`, the others as they
   * come; `asked`: when each was asked, `answeredAt`: when the 429 went back.
   */
  function rateLimitedOnce(net: TestNetwork) {
    const fetchOf = net.fetch.bind(net);
    const limited = { asked: [] as number[], answeredAt: 0 };
    net.fetch = async (input, init) => {
      if (new URL(input).pathname !== '/v1/stock') return fetchOf(input, init);
      limited.asked.push(performance.now());
      if (limited.asked.length > 1) return fetchOf(input, init);
      limited.answeredAt = performance.now();
      const body = { error: { code: 'rate_limited', message: 'slow down' } };
      return new Response(JSON.stringify(body), {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
      });
    };
    return limited;
  }

  it('asks stock.near every pollMs while the stream holds, and gives each change once', async () => {
    const net = streamsThat('hold');
    const errors: OmniError[] = [];
    const got = answers();
    const start = performance.now();
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['POLL-1'],
      (a) => got.push(a),
      { near: { postal: 'BS1 4ST' }, pollMs: 30, onError: (e) => errors.push(e) },
    );
    const first = await got.next();
    expect(first.sku).to.equal('POLL-1');
    expect(bandOf(first, 'london').availability).to.deep.equal({ band: 'out_of_stock' });

    await setStock('london', 'POLL-1', 2);
    const second = await got.next();
    expect(bandOf(second, 'london').availability).to.deep.equal({ band: 'low_stock', count: 2 });

    // Three more polls find nothing new: nothing more is given.
    await polled(net, polls(net) + 3);
    expect(got.all).to.have.length(2);
    expect(errors).to.deep.equal([]);
    // A stream never heard from is given 3 s to connect before it is replaced, not a turn.
    const turns3s = Math.floor((performance.now() - start) / 3000);
    expect(net.streams.length).to.be.at.most(1 + turns3s);
    stop();
    const sent = polls(net);
    await idle(150);
    expect(polls(net), 'no poll after the unsubscribe').to.equal(sent);
  });

  it('asks at once when the stream is refused, and ends when the polls are refused', async () => {
    const net = streamsThat('refuse');
    const catalog = createCatalog(shopper({ network: net }));
    const got = answers();
    // A minute between polls, the first after 3 s: sooner, the answer is the refusal's poll.
    const start = performance.now();
    catalog.stock.watch(['MUG-1'], (a) => got.push(a), { pollMs: 60_000 });
    expect((await got.next()).sku).to.equal('MUG-1');
    expect(performance.now() - start, 'asked at once').to.be.below(2500);
    expect(polls(net)).to.equal(1);

    const errors: OmniError[] = [];
    const refused = new Promise<void>((resolve) =>
      catalog.stock.watch(['NOPE-1'], () => expect.fail('no answer for an unknown sku'), {
        pollMs: 20,
        onError: (e) => (errors.push(e), resolve()),
      }),
    );
    await refused;
    expect(errors.map((e) => [e.code, e.retryable])).to.deep.equal([['not_found', false]]);
    const sent = polls(net);
    await idle(150);
    expect(polls(net), 'the refused watch asks no more').to.equal(sent);
  });

  it('ends a round of polls when unsubscribed during it', async () => {
    const net = streamsThat('hold');
    const held = holdPolls(net);
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['MUG-1', 'TEA-1'],
      () => expect.fail('no answer after the unsubscribe'),
      { pollMs: 20 },
    );
    await held.arrived(1);
    stop();
    held.release(true);
    await held.answered(1);
    // TEA-1 would be asked right after MUG-1's answer.
    await idle(150);
    expect(polls(net), 'TEA-1 was not asked for').to.equal(1);
  });

  it("drops a poll's answer when the stream spoke while it was asked", async () => {
    const net = streamsThat('hold');
    const held = holdPolls(net);
    const got = answers();
    const catalog = createCatalog(shopper({ network: net }));
    const stop = catalog.stock.watch(['MUG-1'], (a) => got.push(a), { pollMs: 20 });
    await held.arrived(1);
    const fromStream: StockAnswer = {
      ...(await createCatalog({
        endpoint: cfg.endpoint,
        publishableKey: cfg.sites.shop.publishableKey,
      }).stock.near({ sku: 'MUG-1' })),
      lowStockThreshold: 99,
    };
    net.streams[0]!.dispatchEvent(new MessageEvent('stock', { data: JSON.stringify(fromStream) }));
    expect(got.all).to.deep.equal([fromStream]);
    held.release();
    // The next round is asked: the first one's answer had its chance to be given by then.
    await held.arrived(2);
    expect(got.all, "the poll's older answer is not given").to.deep.equal([fromStream]);
    held.release(true);
    stop();
  });

  it('reports a failed round once, and replaces a closed stream a turn later', async () => {
    const net = streamsThat('refuse');
    net.setOnline(false);
    const errors: OmniError[] = [];
    let third = () => {};
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['MUG-1', 'TEA-1'],
      () => expect.fail('no answer offline'),
      { pollMs: 20, onError: (e) => (errors.push(e), errors.length === 3 && third()) },
    );
    await new Promise<void>((resolve) => (third = resolve));
    // A new stream a turn at most (each turn's round failed once, before its replacement).
    expect(net.streams.length).to.be.at.most(errors.length);
    // And one is made: a turn's timer can fire a hair before the clock says a turn has passed
    // (WebKit), so the replacement may come a turn later than the second.
    await net.made(2);
    stop();
    expect(errors.every((e) => e.code === 'network' && e.retryable)).to.equal(true);
    const asked = net.urls.filter((u) => new URL(u).pathname === '/v1/stock');
    expect(asked.every((u) => new URL(u).searchParams.get('sku') === 'MUG-1')).to.equal(true);
  });

  it('asks first after 3 s at most behind a held stream, whatever pollMs', async () => {
    const net = streamsThat('hold');
    const got = answers();
    // Not after the minute: the test would time out.
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['MUG-1'],
      (a) => got.push(a),
      { pollMs: 60_000 },
    );
    expect((await got.next()).sku).to.equal('MUG-1');
    stop();
  });

  it("waits the server's Retry-After before the next round", async () => {
    const net = streamsThat('hold');
    const limited = rateLimitedOnce(net);
    const errors: OmniError[] = [];
    const got = answers();
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['MUG-1'],
      (a) => got.push(a),
      { pollMs: 20, onError: (e) => errors.push(e) },
    );
    await got.next();
    stop();
    expect(errors.map((e) => [e.code, e.retryable])).to.deep.equal([['rate_limited', true]]);
    // A lower bound only: timers never fire early, a loaded machine makes them late.
    expect(limited.asked[1]! - limited.answeredAt).to.be.at.least(990);
  });

  it("waits the server's Retry-After when the stream closes meanwhile", async () => {
    const net = streamsThat('hold');
    const limited = rateLimitedOnce(net);
    const got = answers();
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['MUG-1'],
      (a) => got.push(a),
      {
        pollMs: 20,
        // Once the round has ended (a task later), the stream closes: it must not ask at once.
        onError: () =>
          setTimeout(() => {
            const es = net.streams[0]!;
            Object.assign(es, { readyState: 2 });
            es.dispatchEvent(new Event('error'));
          }),
      },
    );
    await got.next();
    stop();
    expect(limited.asked[1]! - limited.answeredAt).to.be.at.least(990);
  });

  it('keeps asking after a callback that throws, and reports its error to the page', async () => {
    const net = streamsThat('hold');
    const thrown: string[] = [];
    // The SDK reports a callback's error as an event listener's is (reportError); uncaught,
    // mocha and the runner would fail on it.
    const report = window.reportError;
    window.reportError = (e) => thrown.push(String(e));
    try {
      const got = answers();
      const stop = createCatalog(shopper({ network: net })).stock.watch(
        ['MUG-1', 'TEA-1'],
        (a) => {
          got.push(a);
          throw new Error(`a page's bug on ${a.sku}`);
        },
        { pollMs: 20 },
      );
      expect([(await got.next()).sku, (await got.next()).sku]).to.deep.equal(['MUG-1', 'TEA-1']);
      stop();
      expect(thrown).to.deep.equal([
        "Error: a page's bug on MUG-1",
        "Error: a page's bug on TEA-1",
      ]);
    } finally {
      window.reportError = report;
    }
  });

  it('refuses a pollMs a timer cannot wait', () => {
    const catalog = createCatalog(shopper());
    for (const pollMs of [0, 0.5, -1, NaN, Infinity, 2 ** 31]) {
      expect(() => catalog.stock.watch(['MUG-1'], () => {}, { pollMs }))
        .to.throw(OmniError)
        .with.property('code', 'invalid_argument');
    }
  });

  it('does not poll while the stream beats', async () => {
    const net = testNetwork();
    const open = net.eventSource.bind(net);
    let beaten = () => {};
    const beat = new Promise<void>((resolve) => (beaten = resolve));
    net.eventSource = (url) => {
      const es = open(url);
      // Any stream's: a first one slow to beat may have been replaced.
      es.addEventListener('heartbeat', () => beaten());
      return es;
    };
    const got = answers();
    const stop = createCatalog(shopper({ network: net })).stock.watch(
      ['MUG-1'],
      (a) => got.push(a),
      { pollMs: 20 },
    );
    // Polls may run until the stream first beats (it may take longer than 20 ms to open).
    await beat;
    await got.next();
    const sent = polls(net);
    await idle(150);
    expect(polls(net), 'polls while the stream is live').to.equal(sent);
    expect(got.all).to.have.length(1);
    stop();
  });
});

describe('createCatalog({ endpoint, publishableKey })', () => {
  it('reads the catalog and stock without a client: no device, no storage', async () => {
    const net = testNetwork();
    const before = (await indexedDB.databases()).length;
    const catalog = createCatalog({
      endpoint: `${cfg.endpoint}/`,
      publishableKey: cfg.sites.shop.publishableKey,
      network: net,
    });
    const [mug] = await catalog.products.get(['MUG-1']);
    expect(mug).to.include({ sku: 'MUG-1' });
    const answer = await catalog.stock.near({ sku: 'MUG-1', postal: 'M1 1AE' });
    expect(answer.stores[0]?.store.id).to.equal('manchester');
    expect(net.requests).to.deep.equal(['/v1/products', '/v1/stock']);
    expect((await indexedDB.databases()).length).to.equal(before);
    catalog.close();
  });

  it('stock.watch reports a stream the server refuses to onError, and checks skus first', async () => {
    const catalog = createCatalog({
      endpoint: cfg.endpoint,
      publishableKey: cfg.sites.shop.publishableKey,
    });
    const error = await new Promise<OmniError>((onError) =>
      catalog.stock.watch(['NOPE-1'], () => expect.fail('no answer for an unknown sku'), {
        onError,
      }),
    );
    expect(error).to.be.instanceOf(OmniError);
    expect(error.retryable).to.equal(false);
    expect(() => catalog.stock.watch(['bad sku!'], () => {})).to.throw(OmniError);
    catalog.close();
  });
});

describe('recommendations.get', () => {
  it('also-bought: items with reasons and products, never the anchor', async () => {
    const c = shopper();
    const items = await c.recommendations.get({ strategy: 'also-bought', sku: 'MUG-1', limit: 4 });
    expect(items).to.have.length(4);
    expect(items[0]).to.deep.include({
      sku: 'TEA-1',
      reason: { code: 'often_bought_with', sku: 'MUG-1', text: 'often bought with MUG-1' },
    });
    expect(items[0]!.product).to.include({ sku: 'TEA-1', title: 'Breakfast tea', price: 450 });
    for (const item of items) {
      expect(item.product.sku).to.equal(item.sku);
      expect(item.reason.text).to.be.a('string').and.not.equal('');
    }
    expect(items.map((i) => i.sku)).to.not.include('MUG-1');
    // Their prices are the cart's too.
    c.cart.add('TEA-1');
    expect(c.cart.subtotal).to.equal(450);
  });

  it('leaves out the cart (even changes not synced yet) and the excluded skus', async () => {
    const c = shopper();
    c.cart.add('TEA-1');
    const items = await c.recommendations.get({
      strategy: 'also-bought',
      sku: 'MUG-1',
      limit: 10,
      exclude: ['BULB-1'],
    });
    const skus = items.map((i) => i.sku);
    expect(skus).to.not.include.members(['TEA-1', 'BULB-1', 'MUG-1']);
    expect(skus.length).to.be.above(0);
  });

  it('personalized: follows what this shopper viewed, with the reason', async () => {
    const c = shopper();
    c.recentlyViewed.track('LAMP-1');
    const items = await c.recommendations.get({ strategy: 'personalized', limit: 3 });
    expect(items[0]).to.deep.include({
      sku: 'BULB-1',
      reason: { code: 'because_you_viewed', sku: 'LAMP-1', text: 'because you viewed LAMP-1' },
    });
    const viewed = await c.recommendations.get({ strategy: 'recently-viewed' });
    expect(viewed.map((i) => i.sku)).to.deep.equal(['LAMP-1']);
  });

  it('fails with typed errors', async () => {
    const c = shopper();
    const missingAnchor = await rejection(c.recommendations.get({ strategy: 'also-bought' }));
    expect(missingAnchor.code).to.equal('invalid_argument');
    const badLimit = await rejection(c.recommendations.get({ strategy: 'trending', limit: 0 }));
    expect(badLimit.code).to.equal('invalid_argument');
  });

  it('without consent: forbidden, and nothing is registered or sent', async () => {
    const net = testNetwork();
    const c = shopper({ network: net, consent: 'pending' });
    const error = await rejection(c.recommendations.get({ strategy: 'trending' }));
    expect(error.code).to.equal('forbidden');
    expect(net.requests).to.deep.equal([]);
    expect(c.identity.deviceId).to.equal(null);
  });
});
