// Test seams for the SDK: a controllable network, unique namespaces, and waiting on state
// (never on time).
import { openDB } from 'idb';
import type { Snapshot } from '@omnikit/protocol';
import type { ClientState, Network, OmniClient } from '@omnikit/sdk';

let counter = 0;
/** A fresh storage namespace: one per simulated browser. */
export const uniqueNs = (label = 'b') =>
  `omnikit-test:${label}:${Date.now().toString(36)}:${++counter}`;

/** A network whose connectivity the test flips; offline, every request fails like a real one. */
export interface TestNetwork extends Network {
  setOnline(online: boolean): void;
  /** Requests sent so far, by path (query stripped). */
  readonly requests: string[];
  /** Every URL the client asked for (fetch and EventSource), in full. */
  readonly urls: string[];
  /** Resolves with the URL of the first event stream the client opens. */
  readonly streamOpened: Promise<string>;
}

export function testNetwork(online = true): TestNetwork {
  const watchers = new Set<() => void>();
  const streams = new Set<EventSource>();
  const requests: string[] = [];
  const urls: string[] = [];
  let opened!: (url: string) => void;
  const streamOpened = new Promise<string>((resolve) => (opened = resolve));
  return {
    requests,
    urls,
    streamOpened,
    fetch(input, init) {
      urls.push(input);
      requests.push(new URL(input).pathname);
      return online ? fetch(input, init) : Promise.reject(new TypeError('Failed to fetch'));
    },
    eventSource(url) {
      urls.push(url);
      opened(url);
      const es = new EventSource(url);
      streams.add(es);
      if (!online) queueMicrotask(() => es.dispatchEvent(new Event('error')));
      return es;
    },
    online: () => online,
    watch(cb) {
      watchers.add(cb);
      return () => watchers.delete(cb);
    },
    setOnline(value) {
      online = value;
      if (!value) {
        for (const es of streams) {
          es.close();
          es.dispatchEvent(new Event('error'));
        }
        streams.clear();
      }
      watchers.forEach((cb) => cb());
    },
  };
}

/** Resolves with the state once `predicate` holds; rejects with `what` if it never does. */
export function until(
  client: OmniClient,
  predicate: (state: ClientState) => boolean,
  what = 'condition',
  ms = 8000,
): Promise<ClientState> {
  return new Promise((resolve, reject) => {
    if (predicate(client.state)) return resolve(client.state);
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(client.state)}`));
    }, ms);
    const stop = client.subscribe(
      (s) => s,
      (s) => {
        if (!predicate(s)) return;
        clearTimeout(timer);
        stop();
        resolve(s);
      },
    );
  });
}

/** The cart as `{ sku: qty }`, for compact assertions. */
export const cartOf = (state: ClientState) =>
  Object.fromEntries(state.cart.lines.map((l) => [l.key, l.qty]));

/** A logger that collects messages instead of printing them. */
export function quietLogger() {
  const messages: string[] = [];
  return {
    messages,
    warn: (m: string, ...rest: unknown[]) => messages.push([m, ...rest].join(' ')),
  };
}

export interface TestConfig {
  endpoint: string;
  /** The browser engine of this run: `chromium`, `firefox` or `webkit` (test/browser/engines.mjs). */
  engine: string;
  /** The seed of the randomized tests: fixed, or `SDK_FUZZ_SEED` (a number, or `random`). */
  fuzzSeed: number;
  /** `shop` has the commerce fixture (test/browser/server-plugin.mjs) and an admin key. */
  sites: Record<
    'sum' | 'max' | 'account' | 'guest' | 'linking' | 'shop',
    { publishableKey: string; mergePolicy: string; adminKey?: string }
  >;
}

let config: Promise<TestConfig> | undefined;
/** Where the runner's real @omnikit/server listens (test/browser/server-plugin.mjs). */
export const testConfig = () =>
  (config ??= fetch('/__omni/test-config').then((r) => r.json() as Promise<TestConfig>));

/** A customer token for `sub`, signed the way a brand's backend would. */
export async function customerToken(sub: string): Promise<string> {
  const res = await fetch(`/__omni/sign-token?sub=${encodeURIComponent(sub)}`);
  return ((await res.json()) as { token: string }).token;
}

/** The device registered under `ns`, read straight from its IndexedDB store. */
export async function storedDevice(ns: string): Promise<{ deviceId: string; token: string }> {
  const db = await openDB(ns);
  const meta = (await db.get('meta', 'meta')) as {
    device: { deviceId: string; token: string } | null;
  };
  db.close();
  if (!meta.device) throw new Error(`no device registered under ${ns}`);
  return meta.device;
}

/** The server's own view of the profile of the device stored under `ns` (the oracle). */
export async function serverSnapshot(ns: string): Promise<Snapshot> {
  return pullAs((await storedDevice(ns)).token);
}

/** The server's snapshot for the device of `token`. */
export async function pullAs(token: string): Promise<Snapshot> {
  const { endpoint } = await testConfig();
  const res = await fetch(`${endpoint}/v1/sync/pull`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await res.json()) as Snapshot;
}

/** A customer id no other test uses. */
export const uniqueCustomer = () => `cust-${Date.now().toString(36)}-${++counter}`;

/**
 * Calls the server's admin API with the site's admin key, as a POS/ERP would. Relayed by the
 * runner: the server's CORS does not let a browser send admin keys.
 */
export async function admin(
  method: 'POST' | 'PUT',
  path: string,
  body: unknown,
  site: keyof TestConfig['sites'] = 'shop',
): Promise<{ status: number; body: unknown }> {
  const q = new URLSearchParams({ site, method, path });
  const res = await fetch(`/__omni/admin?${q}`, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as { status: number; body: unknown };
}
