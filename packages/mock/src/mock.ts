// The whole /v1 API in memory. Sync, identity and handoff run on @omnikit/protocol's validators,
// reducers and merge (the server's own semantics); answers and errors have the server's shapes
// and stable codes. One mock is one site; state lives until `reset()`.
import { delay, http, HttpResponse, type RequestHandler } from 'msw';
import {
  applyBatch,
  emptyState,
  errorBody,
  LIMITS,
  mergeStates,
  OmniError,
  parseHandoffClaimRequest,
  parseIdentifyRequest,
  parsePushRequest,
  parseRegisterDeviceRequest,
  parseSiblingDeviceRequest,
  recentIds,
  reduce,
  withOptions,
  type MergePolicy,
  type MergeSummary,
  type Mutation,
  type Poke,
  type Product,
  type ProfileState,
  type Snapshot,
  type StockAnswer,
  type StoreInfo,
  type Strategy,
} from '@omnikit/protocol';
import {
  bad,
  isObj,
  parseFeed,
  parseOrder,
  parseOrigin,
  parseStores,
  parseTime,
  recommend,
  skuList,
  stockAnswer,
  stockRefusal,
  STRATEGIES,
  type Order,
  type Origin,
  type RecEvent,
  type StockRow,
} from './commerce.js';
import { signToken, verifyToken, type TokenKey } from './jwt.js';
import { seedCatalog, type Catalog } from './seed.js';

/** Every operation of the API, by its OpenAPI `operationId`. */
export type OperationId =
  | 'health'
  | 'registerDevice'
  | 'registerSibling'
  | 'push'
  | 'pull'
  | 'streamTicket'
  | 'stream'
  | 'identify'
  | 'logout'
  | 'forget'
  | 'createHandoff'
  | 'claimHandoff'
  | 'importProducts'
  | 'putStores'
  | 'putStock'
  | 'recordOrder'
  | 'getProducts'
  | 'getStock'
  | 'streamStock'
  | 'getRecommendations';

/** The mocked site: keys, policies and the customer-token key, as a server's site config. */
export interface MockSite {
  /** `X-Omni-Key` (and `?key=` on stock streams). Default `pk_mock`. */
  publishableKey: string;
  /** `X-Omni-Admin-Key` of the admin API. Default `mock-admin-key-0123456789`. */
  adminKey: string;
  /** When not empty, a request with another `Origin` is refused (403), like the server. */
  allowedOrigins: string[];
  /** Guest-to-account merge policy. Default `sum`. */
  mergePolicy: MergePolicy;
  /** HS256 customer-token key; `null` refuses identify (403) like a site without one. */
  customerToken: TokenKey | null;
  /** The claim page (`?omni_handoff=CODE` is appended). Default: the first allowed origin or the page's. */
  handoffUrl: string;
  /** Claiming an identified profile's code joins it instead of copying the cart. */
  allowLinking: boolean;
  /** Counts at or below this are `low_stock`. Default 5. */
  lowStockThreshold: number;
}

export interface MockOptions {
  /** Base URL of the mocked API, e.g. `https://api.shop.test`; requests elsewhere are not handled. */
  endpoint: string;
  site?: Partial<MockSite>;
  /** The catalog to start with; each part given replaces the seeded one. */
  catalog?: Partial<Catalog>;
  /** Clock (ms since epoch), for tests of expiry. */
  now?: () => number;
  /**
   * How event streams are answered: `'live'`, one open answer that carries every event as it
   * happens; `'long-poll'`, a stream told in finite answers, each held until it has events, that
   * `EventSource` reconnects after (see the README). Default: `'live'` where this page can hand
   * msw's service worker a `ReadableStream` (or in Node), `'long-poll'` where it cannot (WebKit).
   */
  eventStreams?: 'live' | 'long-poll';
}

/** An injected failure: 500 `internal`, or 429 `rate_limited` with Retry-After (both documented for every sync operation). */
export interface Fault {
  status: 500 | 429;
  /** Seconds, for 429 (`Retry-After` and `details.retryAfter`). Default 1. */
  retryAfter?: number;
  /** How many answers fail; every one until `clearFaults()` when not given. */
  times?: number;
}

export interface OmniMock {
  /** Hand these to `setupWorker(...)` (browser) or `setupServer(...)` (Node). */
  readonly handlers: RequestHandler[];
  readonly site: Readonly<MockSite>;
  /** Makes `operation` (or every operation, `'*'`) fail, the newest rule first. */
  fail(operation: OperationId | '*', fault: Fault): void;
  /** Delays every answer by `ms`. */
  latency(ms: number): void;
  /** While on, every request fails as a network error (fetch rejects) and open streams end. */
  offline(on?: boolean): void;
  /** Removes every fault, latency and the offline switch. */
  clearFaults(): void;
  /** Ends open streams, forgets every device and profile, and re-seeds the catalog. */
  reset(): void;
  /** A customer token for `sub`, signed with the site's key as a brand's backend would. */
  customerToken(sub: string, ttlSeconds?: number): Promise<string>;
  /** Sets one stock count now, as a POS would (open stock streams hear it). */
  setStock(location: string, sku: string, qty: number): void;
  /** The snapshot a device would pull now; `undefined` for an unknown device id. */
  snapshot(deviceId: string): Snapshot | undefined;
}

interface Profile {
  id: string;
  customerId: string | null;
  state: ProfileState;
  version: number;
  /** Ids of the latest applied mutations (applyBatch), as the server keeps them. */
  recentIds: readonly string[];
}
interface Device {
  id: string;
  profileId: string;
  lastSeq: number;
  /** The root device of its family (one browser) when it is a sibling. */
  family?: string;
}
interface Code {
  profileId: string;
  deviceId: string;
  expiresAt: number;
  used: boolean;
}
interface Ctx {
  request: Request;
  q: URLSearchParams;
  json(max?: number): Promise<unknown>;
}

const ticketTtl = 60_000;
const handoffTtl = 600_000;
const codeChars = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const sseHeaders = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
};
/** A long-poll answer waits this long for an event, then ends with its heartbeat alone. */
const holdMs = 5_000;
/** The reconnect delay every long-poll answer asks for (`retry:`). */
const retryMs = 100;
/**
 * A long-poll stream ends when no reconnect resumes it within this time after an answer
 * (EventSource comes back after `retryMs`; Firefox after about 500 ms whatever it is told).
 */
const resumeMs = 3_000;
/** A device's new long-poll sync stream this soon after its last answer waits like a reconnect. */
const followMs = 2_000;

let liveWorks: boolean | undefined;
/**
 * Whether a live answer reaches an `EventSource` here. msw's `setupWorker` hands its service
 * worker a mocked body as a transferred `ReadableStream` where the page can transfer one (msw's
 * own test, below), and otherwise reads the whole body first (WebKit: DataCloneError), so a body
 * that never ends never arrives. Node (msw/node, no worker) can transfer one: live there too.
 */
function canStreamLive(): boolean {
  if (liveWorks === undefined) {
    liveWorks = true;
    if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel();
      try {
        const stream = new ReadableStream({ start: (c) => c.close() });
        channel.port1.postMessage(stream, [stream]);
      } catch {
        liveWorks = false;
      } finally {
        channel.port1.close();
        channel.port2.close();
      }
    }
  }
  return liveWorks;
}

/** A timer that does not keep a Node process alive (browsers have no `unref`). */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
/** 256 random bits, URL-safe, like the server's bearer tokens and tickets. */
const secret = () =>
  btoa(String.fromCharCode(...random(32)))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const err = (
  code: ConstructorParameters<typeof OmniError>[0],
  message: string,
  details?: unknown,
) => new OmniError(code, message, { details });

/** Creates an in-memory omnikit API and its msw handlers. */
export function createMock(options: MockOptions): OmniMock {
  const base = options.endpoint.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const given = options.site ?? {};
  const origins = given.allowedOrigins ?? [];
  const site: MockSite = {
    publishableKey: 'pk_mock',
    adminKey: 'mock-admin-key-0123456789',
    allowedOrigins: origins,
    mergePolicy: 'sum',
    customerToken: {
      secret: 'omnikit-mock-customer-token-secret',
      issuer: 'https://auth.mock.test',
      audience: 'omnikit:mock',
    },
    handoffUrl: origins[0] ?? globalThis.location?.origin ?? 'http://localhost',
    allowLinking: false,
    lowStockThreshold: 5,
    ...given,
  };

  // ---- state ----
  let devices: Map<string, Device>;
  let tokens: Map<string, Device>;
  let profiles: Map<string, Profile>;
  let customers: Map<string, string>;
  let tickets: Map<string, { deviceId: string; expiresAt: number }>;
  let codes: Map<string, Code>;
  let events: (RecEvent & { deviceId: string | null })[];
  let products: Map<string, Product>;
  let stores: Map<string, StoreInfo>;
  let stock: Map<string, StockRow>;
  let orders: Map<string, Order>;
  const streams = new Set<{ refresh(): void }>();
  const stockStreams = new Set<{ refresh(skus: Set<string> | null): void }>();
  /** Every open event stream's close, so `reset()` can end them. */
  const open = new Set<() => void>();

  let faults: (Fault & { op: string })[] = [];
  let wait = 0;
  let offline = false;

  const newProfile = (customerId: string | null = null, state = emptyState()): Profile => {
    const p = { id: crypto.randomUUID(), customerId, state, version: 0, recentIds: [] };
    profiles.set(p.id, p);
    return p;
  };
  const profileOf = (d: Device) => profiles.get(d.profileId)!;
  /** Moves a device and its family still on its profile, as the server does; returns their ids. */
  const move = (d: Device, profileId: string): Set<string> => {
    const root = d.family ?? d.id;
    const moved = [...devices.values()].filter(
      (x) => x.profileId === d.profileId && (x.id === root || x.family === root),
    );
    for (const x of moved) x.profileId = profileId;
    return new Set(moved.map((x) => x.id));
  };
  const snap = (p: Profile, lastSeq: number): Snapshot => ({
    profileId: p.id,
    customerId: p.customerId,
    version: p.version,
    lastSeq,
    state: p.state,
  });
  const save = (p: Profile, state: ProfileState) => {
    p.state = state;
    p.version++;
  };
  /** Every sync stream re-reads its device, as the server's pokes make them do. */
  const poke = () => streams.forEach((s) => s.refresh());
  const row = (location: string, sku: string) => stock.get(`${location}\0${sku}`);
  const answerOf = (sku: string, origin: Origin): StockAnswer =>
    stockAnswer(sku, stores.values(), (l) => row(l, sku), origin, site.lowStockThreshold);

  function writeStock(rows: StockRow[]) {
    for (const r of rows) stock.set(`${r.location}\0${r.sku}`, r);
    const skus = new Set(rows.map((r) => r.sku));
    stockStreams.forEach((s) => s.refresh(skus));
  }

  function addOrder(order: Order) {
    const profileId = order.customerId === null ? null : (customers.get(order.customerId) ?? null);
    orders.set(order.orderId, order);
    for (const l of order.lines) {
      if (profileId)
        events.push({ profileId, deviceId: null, kind: 'purchase', sku: l.sku, at: order.at });
    }
    return profileId;
  }

  function seed() {
    devices = new Map();
    tokens = new Map();
    profiles = new Map();
    customers = new Map();
    tickets = new Map();
    codes = new Map();
    events = [];
    products = new Map();
    stores = new Map();
    stock = new Map();
    orders = new Map();
    const c = { ...seedCatalog, ...options.catalog };
    const at = now() - 60_000;
    for (const p of c.products) {
      products.set(p.sku, {
        groupId: null,
        description: '',
        attributes: {},
        ...p,
        updatedAt: at,
      });
    }
    for (const s of c.stores) stores.set(s.id, s);
    writeStock(c.stock.map(([location, sku, qty]) => ({ location, sku, qty, updatedAt: at })));
    c.orders.forEach((skus, i) =>
      addOrder({
        orderId: `seed-${i + 1}`,
        customerId: null,
        storeId: null,
        channel: 'web',
        at: at - (c.orders.length - i) * 60_000,
        lines: skus.map((sku) => ({ sku, qty: 1 })),
      }),
    );
  }
  seed();

  // ---- auth ----
  const checkOrigin = (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin !== null && origins.length && !origins.includes(origin)) {
      throw err('forbidden', `Origin ${origin} is not allowed for this site`);
    }
  };
  const device = ({ request }: Ctx): Device => {
    const m = /^Bearer\s+([A-Za-z0-9_-]{16,128})\s*$/i.exec(
      request.headers.get('authorization') ?? '',
    );
    if (!m) throw err('unauthorized', 'Missing or malformed Authorization: Bearer <token>');
    const d = tokens.get(m[1]!);
    if (!d) throw err('unauthorized', 'Unknown device token', { reason: 'unknown_device' });
    checkOrigin(request);
    return d;
  };
  const siteKey = ({ request, q }: Ctx) => {
    const key = request.headers.get('x-omni-key') ?? q.get('key');
    if (!key)
      throw err('unauthorized', 'Missing X-Omni-Key (the publishable key; ?key= on streams)');
    if (key !== site.publishableKey) throw err('unauthorized', 'Unknown publishable key');
    checkOrigin(request);
  };
  const admin = ({ request }: Ctx) => {
    const key = request.headers.get('x-omni-admin-key');
    if (!key) throw err('unauthorized', 'Missing X-Omni-Admin-Key');
    if (key !== site.adminKey) throw err('unauthorized', 'Unknown admin key');
  };

  // ---- event streams ----
  /** Starts a stream's events, written with `write`; returns what stops them. */
  type Source = (write: (text: string) => void) => () => void;
  /** A long-poll stream (see `longPoll`) between its answers. */
  interface Polled {
    /**
     * The next answer: at once when events wait, else when one comes or `holdMs` passes. When
     * `signal` aborts first (the client went away), the events wait for the next answer.
     */
    answer(signal?: AbortSignal): Promise<Response>;
    /** An answer is being held, so another request is not this stream's reconnect. */
    readonly holding: boolean;
  }
  const longPolling =
    (options.eventStreams ?? (canStreamLive() ? 'live' : 'long-poll')) === 'long-poll';
  /** Open long-poll streams: sync streams by their ticket, stock streams by their id. */
  const polled = { sync: new Map<string, Polled>(), stock: new Map<string, Polled>() };
  /** When a long-poll sync stream of each device last answered, and what it had sent. */
  const answeredAt = new Map<string, { at: number; profileId: string | null; last?: number }>();
  /**
   * As on the server, every answer starts with a heartbeat event, and a live one beats every
   * 15 s (the SDK pulls, and a stock watch polls, while a stream has not beaten or missed two).
   */
  const heartbeat = (extra = '') => `event: heartbeat\n${extra}data: 15000\n\n`;

  /** One answer that stays open and carries every event as it happens. */
  function liveStream(source: Source): Response {
    let close = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const enc = new TextEncoder();
        let stop = () => {};
        let closed = false;
        const write = (text: string) => {
          try {
            if (!closed) controller.enqueue(enc.encode(text));
          } catch {
            close();
          }
        };
        // unref: in Node, a stream a test left open must not keep the process alive.
        const beats = unref(setInterval(() => write(heartbeat()), 15_000));
        close = () => {
          if (closed) return;
          closed = true;
          clearInterval(beats);
          open.delete(close);
          stop();
          try {
            controller.close();
          } catch {
            // Already cancelled by the client.
          }
        };
        open.add(close);
        write(heartbeat());
        stop = source(write);
      },
      cancel: () => close(),
    });
    return new Response(body, { headers: sseHeaders });
  }

  /**
   * One stream told in finite answers, for where a live one cannot reach the page (WebKit). The
   * first answer goes at once; each later one is held until the stream has events (or `holdMs`
   * passes). Every answer is the heartbeat (with `retry:` and the `id()` a reconnect resumes
   * from), then the events. EventSource reconnects after `retryMs` with that id as
   * `Last-Event-ID`, and the route hands its reconnect to `answer()`: the stream goes on where it
   * was, events written between two answers waiting for the next. A stream that no reconnect
   * resumes within `resumeMs` ends, as `reset()` and `offline()` end it (a held answer ends
   * then); `ended` forgets it.
   */
  function longPoll(
    source: Source,
    o: {
      /** The id a reconnect resumes from. */
      id(): string | undefined;
      /** The stream ended: forget it. */
      ended(): void;
      /** An answer left. */
      answered?(): void;
      /** Hold the first answer too, until an event comes after it (see the sync stream). */
      holdFirst?(): boolean;
    },
  ): Polled {
    let queued = '';
    let held: ((answer: Response) => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let due = false;
    let closed = false;
    let opening = true;
    const reply = () => {
      due = false;
      clearTimeout(timer);
      const send = held;
      if (!send) return;
      held = undefined;
      const last = o.id();
      const head = heartbeat(`retry: ${retryMs}\n${last === undefined ? '' : `id: ${last}\n`}`);
      const body = head + queued;
      queued = '';
      if (!closed) timer = unref(setTimeout(close, resumeMs));
      o.answered?.();
      send(new Response(body, { headers: sseHeaders }));
    };
    // Events written in one task (a stock update of several skus) leave in one answer.
    const soon = () => {
      if (due) return;
      due = true;
      queueMicrotask(reply);
    };
    const write = (text: string) => {
      if (closed) return;
      queued += text;
      if (held) soon();
    };
    const close = () => {
      if (closed) return;
      closed = true;
      open.delete(close);
      stop();
      o.ended();
      reply();
    };
    open.add(close);
    const stop = source(write);
    return {
      get holding() {
        return held !== undefined;
      },
      answer: (signal) =>
        new Promise<Response>((resolve) => {
          clearTimeout(timer);
          held = resolve;
          // The first answer goes at once, as a live stream's heartbeat flushes its headers:
          // EventSource opens on it. Later ones (and a held first one) wait for an event.
          if (closed || (opening ? !o.holdFirst?.() : queued)) soon();
          else timer = setTimeout(reply, holdMs);
          opening = false;
          // A client that went away is no longer held for: what was queued waits for the next
          // answer (a reconnect), and the stream ends unless one comes.
          signal?.addEventListener(
            'abort',
            () => {
              if (held !== resolve) return;
              held = undefined;
              clearTimeout(timer);
              if (!closed) timer = unref(setTimeout(close, resumeMs));
              resolve(new Response(null, { status: 204 }));
            },
            { once: true },
          );
        }),
    };
  }

  /** A device's pokes: its snapshot now (unless the client has it), then after every change. */
  function followDevice(deviceId: string, lastEventId: number | undefined) {
    let last = lastEventId;
    let profileId: string | null = null;
    const source: Source = (write) => {
      const entry = {
        refresh() {
          const d = devices.get(deviceId)!;
          const s = snap(profileOf(d), d.lastSeq);
          const moved = s.profileId !== profileId;
          const first = profileId === null;
          profileId = s.profileId;
          if ((moved && !first) || last === undefined || s.version !== last) {
            const poke: Poke = { version: s.version };
            if (JSON.stringify(s).length <= 16_384) poke.snapshot = s;
            write(`event: poke\nid: ${s.version}\ndata: ${JSON.stringify(poke)}\n\n`);
            last = s.version;
          }
        },
      };
      streams.add(entry);
      entry.refresh();
      return () => streams.delete(entry);
    };
    return { source, last: () => last, profileId: () => profileId };
  }

  // ---- routes ----
  type Handler = (c: Ctx) => Response | Promise<Response>;
  /** A long-poll stream's reconnect, answered by its stream; `undefined` for any other request. */
  type Resume = (request: Request) => Promise<Response> | undefined;
  const routes: [string, string, OperationId, Handler, Resume?][] = [];
  const route = (method: string, path: string, op: OperationId, h: Handler, resume?: Resume) =>
    routes.push([method, path, op, h, resume]);
  const json = (body: unknown, status = 200, headers?: Record<string, string>) =>
    new HttpResponse(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    });

  route('get', '/v1/health', 'health', () => json({ ok: true, version: 'mock' }));

  route('post', '/v1/devices', 'registerDevice', async (c) => {
    siteKey(c);
    const body = parseRegisterDeviceRequest(await c.json(256 * 1024));
    let state: ProfileState | undefined;
    if (body.state) {
      // The server's carry-over: the old state replayed through the reducers, never in the future.
      const t = now();
      const at = (x: number) => Math.min(x, t);
      const s = body.state;
      const changes = [
        ...s.viewed
          .map((v) => ({ name: 'viewed.add', args: { sku: v.sku }, at: at(v.at) }))
          .reverse(),
        ...s.cart.lines.map((l) => ({
          name: 'cart.add',
          args: withOptions({ sku: l.sku, qty: l.qty }, l.options),
          at: at(l.addedAt),
        })),
        { name: 'cart.setPickupStore', args: { storeId: s.cart.pickupStore }, at: t },
        ...Object.entries(s.prefs).map(([key, value]) => ({
          name: 'prefs.set',
          args: { key, value },
          at: t,
        })),
      ];
      state = reduce(changes.map((m, i) => ({ ...m, seq: i + 1 }) as Mutation));
    }
    const p = newProfile(null, state);
    const d: Device = { id: crypto.randomUUID(), profileId: p.id, lastSeq: 0 };
    const token = secret();
    devices.set(d.id, d);
    tokens.set(token, d);
    return json({ deviceId: d.id, token, profileId: p.id }, 201);
  });

  route('post', '/v1/devices/sibling', 'registerSibling', async (c) => {
    const d = device(c);
    parseSiblingDeviceRequest(await c.json());
    // Another device of the same browser (family), on its profile, with seqs of its own.
    const sibling: Device = {
      id: crypto.randomUUID(),
      profileId: d.profileId,
      lastSeq: 0,
      family: d.family ?? d.id,
    };
    const token = secret();
    devices.set(sibling.id, sibling);
    tokens.set(token, sibling);
    return json({ deviceId: sibling.id, token, profileId: sibling.profileId }, 201);
  });

  route('post', '/v1/sync/push', 'push', async (c) => {
    const d = device(c);
    const raw = await c.json();
    const batch = isObj(raw) ? raw.mutations : undefined;
    if (Array.isArray(batch) && batch.length > LIMITS.maxBatch) {
      throw err(
        'payload_too_large',
        `A push carries at most ${LIMITS.maxBatch} mutations; split the batch`,
        {
          maxBatch: LIMITS.maxBatch,
        },
      );
    }
    const req = parsePushRequest(raw);
    if (req.deviceId !== d.id)
      throw err('forbidden', 'This token does not own the device it pushes for');
    const p = profileOf(d);
    const out = applyBatch(p.state, d.lastSeq, req.mutations, p.recentIds);
    d.lastSeq = out.lastSeq;
    p.recentIds = out.recent;
    const t = now();
    req.mutations.forEach((m, i) => {
      if (out.results[i]?.status !== 'applied') return;
      const at = Math.floor(Math.min(m.at, t));
      if (m.name === 'viewed.add')
        events.push({ profileId: p.id, deviceId: d.id, kind: 'view', sku: m.args.sku, at });
      if (m.name === 'cart.add' && m.args.qty > 0) {
        events.push({ profileId: p.id, deviceId: d.id, kind: 'add_to_cart', sku: m.args.sku, at });
      }
    });
    if (out.state !== p.state) {
      save(p, out.state);
      poke();
    }
    return json({ version: p.version, lastSeq: out.lastSeq, results: out.results });
  });

  route('get', '/v1/sync/pull', 'pull', (c) => {
    const d = device(c);
    return json(snap(profileOf(d), d.lastSeq));
  });

  route('post', '/v1/sync/stream-ticket', 'streamTicket', (c) => {
    const d = device(c);
    const ticket = secret();
    const expiresAt = now() + ticketTtl;
    tickets.set(ticket, { deviceId: d.id, expiresAt });
    return json({ ticket, expiresAt }, 201);
  });

  route(
    'get',
    '/v1/sync/stream',
    'stream',
    (c) => {
      const ticket = c.q.get('ticket') ?? '';
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(ticket))
        throw err('unauthorized', 'Missing or malformed stream ticket');
      const t = tickets.get(ticket);
      tickets.delete(ticket);
      if (!t) throw err('unauthorized', 'Unknown or already used stream ticket');
      checkOrigin(c.request);
      if (t.expiresAt < now())
        throw err('unauthorized', 'Stream ticket expired; ask for a new one');
      const resume = c.request.headers.get('last-event-id') ?? c.q.get('lastEventId') ?? '';
      const follow = followDevice(
        t.deviceId,
        /^\d{1,15}$/.test(resume) ? Number(resume) : undefined,
      );
      if (!longPolling) return liveStream(follow.source);
      // The ticket is spent, as on the server, but names this stream for its reconnects. The
      // SDK does not reconnect: when an answer ends it takes a new ticket and opens a new
      // stream (after a short backoff), and pulls once it opens. A device's stream opened
      // within `followMs` of its last answer, with nothing new since that answer, is held as a
      // reconnect would be (until an event comes), or the two would go round several times a
      // second; with something new, it answers at once.
      const previous = answeredAt.get(t.deviceId);
      const stream = longPoll(follow.source, {
        id: () => follow.last()?.toString(),
        ended: () => polled.sync.delete(ticket),
        answered: () => {
          const at = Date.now();
          for (const [id, a] of answeredAt) if (at - a.at >= followMs) answeredAt.delete(id);
          answeredAt.set(t.deviceId, { at, profileId: follow.profileId(), last: follow.last() });
        },
        holdFirst: () =>
          previous !== undefined &&
          Date.now() - previous.at < followMs &&
          previous.profileId === follow.profileId() &&
          previous.last === follow.last(),
      });
      polled.sync.set(ticket, stream);
      return stream.answer(c.request.signal);
    },
    (request) => {
      const stream = polled.sync.get(new URL(request.url).searchParams.get('ticket') ?? '');
      // Only EventSource's reconnect, which says what it saw last, goes on with the stream: any
      // other use of a spent ticket is refused, as on the server.
      return stream && !stream.holding && request.headers.has('last-event-id')
        ? stream.answer(request.signal)
        : undefined;
    },
  );

  route('post', '/v1/identify', 'identify', async (c) => {
    const d = device(c);
    const { token } = parseIdentifyRequest(await c.json());
    if (!site.customerToken)
      throw err('forbidden', 'This site has no customer-token key configured');
    const customerId = await verifyToken(site.customerToken, token, now());
    const pid = customers.get(customerId) ?? newProfile(customerId).id;
    customers.set(customerId, pid);
    const guest = profileOf(d);
    if (guest.id === pid) return json({ ...snap(guest, d.lastSeq), merge: null });
    const customer = profiles.get(pid)!;
    let merge: MergeSummary | null = null;
    if (guest.customerId === null) {
      // The guest's cart joins the account; only this device (and its family) follows it.
      const merged = mergeStates(customer.state, guest.state, site.mergePolicy);
      merge = merged.summary;
      if (!same(merged.state, customer.state)) save(customer, merged.state);
      // The guest's changes are the account's now, whatever the merge kept: none applied twice.
      customer.recentIds = recentIds([...customer.recentIds, ...guest.recentIds]);
      const moved = move(d, pid);
      const alone = ![...devices.values()].some((x) => x.profileId === guest.id);
      for (const e of events) {
        const mine = e.deviceId !== null && moved.has(e.deviceId);
        if (e.profileId === guest.id && (alone || mine)) e.profileId = pid;
      }
      if (alone) {
        guest.state = emptyState();
        for (const code of codes.values()) if (code.profileId === guest.id) code.profileId = pid;
      }
    } else move(d, pid);
    poke();
    return json({ ...snap(customer, d.lastSeq), merge });
  });

  route('post', '/v1/logout', 'logout', (c) => {
    const d = device(c);
    const fresh = newProfile();
    const moved = move(d, fresh.id);
    // Codes made while signed in must not hand the customer's cart out after sign-out.
    for (const [k, code] of codes) if (moved.has(code.deviceId) && !code.used) codes.delete(k);
    poke();
    return json(snap(fresh, d.lastSeq));
  });

  route('delete', '/v1/profile', 'forget', (c) => {
    const d = device(c);
    const p = profileOf(d);
    // Each device to a profile of its own, siblings too (as on the server).
    for (const x of devices.values()) if (x.profileId === p.id) x.profileId = newProfile().id;
    events = events.filter((e) => e.profileId !== p.id);
    for (const [k, code] of codes) if (code.profileId === p.id) codes.delete(k);
    for (const o of orders.values()) {
      if (p.customerId !== null && o.customerId === p.customerId) o.customerId = null;
    }
    if (p.customerId !== null) customers.delete(p.customerId);
    profiles.delete(p.id);
    poke();
    return new HttpResponse(null, { status: 204 });
  });

  route('post', '/v1/handoff', 'createHandoff', (c) => {
    const d = device(c);
    let code = '';
    for (const b of random(8)) code += codeChars[b % codeChars.length];
    const expiresAt = now() + handoffTtl;
    // A device keeps its few newest open codes: minting more retires the oldest.
    const open = [...codes].filter(([, x]) => x.deviceId === d.id && !x.used);
    for (const [k] of open.slice(0, Math.max(0, open.length - 4))) codes.delete(k);
    codes.set(code, { profileId: d.profileId, deviceId: d.id, expiresAt, used: false });
    const url = new URL(site.handoffUrl);
    url.searchParams.set('omni_handoff', code);
    return json({ code, url: url.toString(), expiresAt }, 201);
  });

  route('post', '/v1/handoff/claim', 'claimHandoff', async (c) => {
    const d = device(c);
    const key = parseHandoffClaimRequest(await c.json())
      .code.toUpperCase()
      .replace(/[\s-]/g, '');
    const code = codes.get(key);
    if (!code) throw err('not_found', 'Unknown handoff code');
    if (code.used) throw err('conflict', 'This handoff code was already used');
    if (code.expiresAt < now()) throw err('gone', 'This handoff code has expired');
    const mine = profileOf(d);
    const source = profiles.get(code.profileId);
    if (!source) throw err('gone', 'The profile of this handoff code no longer exists');
    code.used = true;
    if (source === mine) return json({ ...snap(mine, d.lastSeq), mode: 'joined' });
    // As the server: a signed-in device never leaves its profile through a code; it copies.
    if (mine.customerId === null && (source.customerId === null || site.allowLinking)) {
      move(d, source.id);
      poke();
      return json({ ...snap(source, d.lastSeq), mode: 'joined' });
    }
    // An identified customer's profile is never joined by a device they may not own: the cart is copied.
    const { state } = mergeStates(
      mine.state,
      { ...emptyState(), cart: source.state.cart },
      site.mergePolicy,
    );
    if (!same(state, mine.state)) {
      save(mine, state);
      poke();
    }
    return json({ ...snap(mine, d.lastSeq), mode: 'copied' });
  });

  // ---- commerce ----
  route('post', '/v1/admin/products/import', 'importProducts', async (c) => {
    admin(c);
    const type = (c.request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const csv = type === 'text/csv' || type === 'text/plain';
    if (!csv && type !== 'application/json') {
      throw err('unsupported_media_type', 'Send the feed as text/csv or application/json');
    }
    const text = await readText(c.request, 5 * 1024 * 1024);
    const { products: feed, rejected } = parseFeed(text, csv);
    if (!feed.length && !rejected.length) bad('The feed has no product rows');
    const applied = !rejected.length || c.q.get('partial') === 'true';
    const report = { applied, created: 0, updated: 0, unchanged: 0, rejected };
    const t = now();
    for (const p of feed) {
      const old = products.get(p.sku);
      const changed = !old || !same({ ...old, updatedAt: 0 }, { ...old, ...p, updatedAt: 0 });
      report[!old ? 'created' : changed ? 'updated' : 'unchanged']++;
      if (applied && changed) products.set(p.sku, { ...p, updatedAt: t });
    }
    if (!applied) {
      bad(
        `${rejected.length} row(s) rejected, so nothing was imported: fix them, or send the good rows alone with ?partial=true`,
        report,
        422,
      );
    }
    return json(report);
  });

  route('put', '/v1/admin/stores', 'putStores', async (c) => {
    admin(c);
    const list = parseStores(await c.json(1024 * 1024));
    for (const s of list) stores.set(s.id, s);
    if (list.length) stockStreams.forEach((s) => s.refresh(null));
    return json({ upserted: list.length });
  });

  route('put', '/v1/admin/stock', 'putStock', async (c) => {
    admin(c);
    const body = await c.json(2 * 1024 * 1024);
    if (!isObj(body)) return bad('Invalid stock update: expected an object');
    const single = !Array.isArray(body.updates);
    const list = (single ? [body] : body.updates) as unknown[];
    if (!list.length) bad('Invalid stock update: updates is empty');
    if (list.length > 5000) bad('Invalid stock update: at most 5000 updates per request');
    const t = now();
    const rows = list.map((x): StockRow => {
      const r = isObj(x) ? x : {};
      return {
        location: (r.location ?? r.storeId) as string,
        sku: r.sku as string,
        qty: r.qty as number,
        updatedAt: parseTime(r.updatedAt),
      };
    });
    if (single) {
      // A malformed single row is a 400, as on the server.
      const reason = stockRefusal(rows[0]!, undefined, t);
      if (reason) bad(reason, { location: rows[0]!.location, sku: rows[0]!.sku });
    }
    type Refusal = { index: number; location: string; sku: string; reason: string };
    const invalid: Refusal[] = [];
    const stale: Refusal[] = [];
    const winners = new Map<string, { index: number; row: StockRow }>();
    rows.forEach((r, index) => {
      const refusal = { index, location: String(r.location), sku: String(r.sku) };
      if (typeof r.location === 'string' && r.location !== 'online' && !stores.has(r.location)) {
        return invalid.push({
          ...refusal,
          reason: `unknown location "${r.location}": not a store of this site nor "online"`,
        });
      }
      const key = `${r.location}\0${r.sku}`;
      const before = winners.get(key);
      const reason = stockRefusal(r, before?.row ?? stock.get(key), t);
      if (reason)
        return (reason.startsWith('Invalid') ? invalid : stale).push({ ...refusal, reason });
      if (before)
        stale.push({
          ...refusal,
          index: before.index,
          reason: 'superseded by a newer count in the same batch',
        });
      winners.set(key, { index, row: r });
    });
    writeStock([...winners.values()].map((w) => w.row));
    const order = (a: Refusal, b: Refusal) => a.index - b.index;
    return json({
      applied: [...winners.values()]
        .sort((a, b) => a.index - b.index)
        .map(({ index, row }) => ({ index, ...row })),
      stale: stale.sort(order),
      invalid: invalid.sort(order),
    });
  });

  route('post', '/v1/orders', 'recordOrder', async (c) => {
    admin(c);
    const order = parseOrder(await c.json(256 * 1024), now());
    const old = orders.get(order.orderId);
    if (old) {
      if (!same(old, order))
        throw err(
          'conflict',
          `Order ${order.orderId} was already recorded with different contents`,
        );
      return json({ orderId: order.orderId, created: false });
    }
    if (order.storeId !== null && !stores.has(order.storeId))
      bad(`Unknown store "${order.storeId}"`);
    return json({ orderId: order.orderId, created: true, profileId: addOrder(order) }, 201);
  });

  route('get', '/v1/products', 'getProducts', (c) => {
    siteKey(c);
    const skus = skuList(c.q.get('skus'), 'skus', 100);
    const body = JSON.stringify({
      products: skus.flatMap((s) => products.get(s) ?? []),
      missing: skus.filter((s) => !products.has(s)),
    });
    let h = 0x811c9dc5;
    for (let i = 0; i < body.length; i++) h = Math.imul(h ^ body.charCodeAt(i), 16777619);
    const headers = {
      ETag: `"${(h >>> 0).toString(36)}-${body.length}"`,
      'Cache-Control': 'public, max-age=60',
    };
    const match = c.request.headers.get('if-none-match') ?? '';
    if (match.split(',').some((x) => x.trim().replace(/^W\//, '') === headers.ETag)) {
      return new HttpResponse(null, { status: 304, headers });
    }
    return new HttpResponse(body, { headers: { ...headers, 'Content-Type': 'application/json' } });
  });

  const oneSku = (v: string | null, name = 'sku') =>
    v !== null && LIMITS.skuPattern.test(v) ? v : bad(`${name}: a valid sku is required`);

  route('get', '/v1/stock', 'getStock', (c) => {
    siteKey(c);
    const sku = oneSku(c.q.get('sku'));
    const answer = answerOf(sku, parseOrigin(c.q));
    if (
      !products.has(sku) &&
      answer.online.updatedAt === null &&
      answer.stores.every((s) => s.updatedAt === null)
    ) {
      throw err('not_found', `No product ${sku} in this catalog`);
    }
    return json(answer, 200, { 'Cache-Control': 'no-cache' });
  });

  route(
    'get',
    '/v1/stock/stream',
    'streamStock',
    (c) => {
      siteKey(c);
      const skus = new Set(skuList(c.q.get('skus'), 'skus', 50));
      const origin = parseOrigin(c.q);
      const source: Source = (write) => {
        const sent = new Map<string, string>();
        const entry = {
          refresh(changed: Set<string> | null) {
            for (const sku of skus) {
              if (changed && !changed.has(sku)) continue;
              const data = JSON.stringify(answerOf(sku, origin));
              if (sent.get(sku) === data) continue;
              sent.set(sku, data);
              write(`event: stock\ndata: ${data}\n\n`);
            }
          },
        };
        stockStreams.add(entry);
        entry.refresh(null);
        return () => stockStreams.delete(entry);
      };
      if (!longPolling) return liveStream(source);
      // No ticket names a stock stream: its answers carry an id of their own, which EventSource
      // sends back as Last-Event-ID when it reconnects.
      const id = crypto.randomUUID();
      const stream = longPoll(source, { id: () => id, ended: () => polled.stock.delete(id) });
      polled.stock.set(id, stream);
      return stream.answer(c.request.signal);
    },
    (request) => {
      const stream = polled.stock.get(request.headers.get('last-event-id') ?? '');
      return stream && !stream.holding ? stream.answer(request.signal) : undefined;
    },
  );

  route('get', '/v1/recommendations', 'getRecommendations', (c) => {
    const d = device(c);
    const strategy = (c.q.get('strategy') ?? 'personalized') as Strategy;
    if (!STRATEGIES.includes(strategy)) {
      bad(`strategy: one of ${STRATEGIES.join(', ')}`, { strategies: STRATEGIES });
    }
    const sku = c.q.get('sku') ?? undefined;
    if (sku !== undefined) oneSku(sku);
    const limit = Number(c.q.get('limit') ?? 10);
    const exclude = c.q.get('exclude');
    const excluded = exclude ? skuList(exclude, 'exclude', 100) : [];
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      bad('limit must be an integer from 1 to 100');
    if ((strategy === 'also-bought' || strategy === 'also-viewed') && !sku) {
      bad(`Strategy "${strategy}" needs a sku`);
    }
    const p = profileOf(d);
    const purchased = new Map<string, number>();
    for (const o of orders.values()) {
      if (o.customerId !== null && o.customerId === p.customerId) {
        for (const l of o.lines) purchased.set(l.sku, Math.max(purchased.get(l.sku) ?? 0, o.at));
      }
    }
    const items = recommend({
      strategy,
      sku,
      limit,
      exclude: excluded,
      viewed: p.state.viewed,
      cart: p.state.cart.lines.map((l) => ({ sku: l.sku, at: l.updatedAt })),
      purchased: [...purchased].map(([s, at]) => ({ sku: s, at })),
      orders: orders.values(),
      events,
      catalog: new Set([...products.keys()].sort()),
      now: now(),
    }).map((item) => {
      const {
        sku: s,
        title,
        price,
        currency,
        url,
        image,
        category,
        groupId,
      } = products.get(item.sku)!;
      return {
        ...item,
        product: { sku: s, title, price, currency, url, image, category, groupId },
      };
    });
    return json({ strategy, items }, 200, { 'Cache-Control': 'private, no-store' });
  });

  // ---- msw glue: faults first, then the route; OmniErrors become the server's error answers ----
  const run =
    (op: OperationId | null, h: Handler, resume?: Resume) =>
    async ({ request }: { request: Request }) => {
      if (offline) return HttpResponse.error();
      // A long-poll stream's reconnect is no new request: as a live stream's next event, it
      // meets no fault or latency.
      const resumed = resume?.(request);
      if (resumed) return resumed;
      if (wait) await delay(wait);
      const fault = faults.find((f) => f.op === op || f.op === '*');
      try {
        if (fault) {
          if (fault.times !== undefined && --fault.times <= 0)
            faults = faults.filter((f) => f !== fault);
          const retryAfter = fault.retryAfter ?? 1;
          throw fault.status === 429
            ? err('rate_limited', `Too many requests; retry in ${retryAfter} s`, { retryAfter })
            : err('internal', 'Injected fault');
        }
        return await h({
          request,
          q: new URL(request.url).searchParams,
          json: (max) => readJson(request, max),
        });
      } catch (e) {
        if (!(e instanceof OmniError)) throw e;
        const retryAfter = (e.details as { retryAfter?: unknown } | undefined)?.retryAfter;
        return json(
          errorBody(e),
          e.status,
          e.code === 'rate_limited' ? { 'Retry-After': String(retryAfter) } : {},
        );
      }
    };
  const handlers: RequestHandler[] = routes.map(([method, path, op, h, resume]) =>
    http[method as 'get'](base + path, run(op, h, resume)),
  );
  handlers.push(
    http.all(
      `${base}/v1/*`,
      run(null, ({ request }) => {
        throw err('not_found', `No route ${request.method} ${new URL(request.url).pathname}`);
      }),
    ),
  );

  return {
    handlers,
    site,
    fail: (op, fault) => void faults.unshift({ ...fault, op }),
    latency: (ms) => void (wait = ms),
    offline(on = true) {
      offline = on;
      // A dropped network also ends open streams; EventSource then reconnects into the error.
      if (on) open.forEach((close) => close());
    },
    clearFaults() {
      faults = [];
      wait = 0;
      offline = false;
    },
    reset() {
      open.forEach((close) => close());
      answeredAt.clear();
      seed();
    },
    customerToken(sub, ttl) {
      if (!site.customerToken) throw new Error('[omnikit mock] this site has no customerToken key');
      return signToken(site.customerToken, sub, ttl, now());
    },
    setStock: (location, sku, qty) => writeStock([{ location, sku, qty, updatedAt: now() }]),
    snapshot(id) {
      const d = devices.get(id);
      return d && snap(profileOf(d), d.lastSeq);
    },
  };
}

/** The body as text, at most `max` bytes (413 `payload_too_large` beyond). */
async function readText(request: Request, max: number): Promise<string> {
  const tooLarge = () =>
    err('payload_too_large', `Request body exceeds ${max} bytes`, { maxBytes: max });
  if (Number(request.headers.get('content-length')) > max) throw tooLarge();
  const text = await request.text();
  if (new TextEncoder().encode(text).length > max) throw tooLarge();
  return text;
}

/** The JSON body (size-limited); an empty body is `undefined`, bad JSON a 400. */
async function readJson(request: Request, max: number = LIMITS.maxBodyBytes): Promise<unknown> {
  const text = await readText(request, max);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw err('invalid_argument', 'Request body is not valid JSON');
  }
}
