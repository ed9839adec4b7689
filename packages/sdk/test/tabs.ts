// Other tabs of the test page, for the SDK tests that need real pages of the origin (iframes of
// test/browser/sdk-tab.html, each with its own client), and the faults they stage: a page whose
// writes never commit, a database that stalls. Shared by durable, alone-sibling and
// identity-sibling tests.
import { createClient, type ClientOptions, type OmniClient } from '@omnikit/sdk';
import { pullAs, quietLogger, testConfig, uniqueNs, type TestConfig } from './helpers.js';

export type TabWindow = Window & typeof globalThis & { omniReady: Promise<OmniClient> };

const frames: HTMLIFrameElement[] = [];

/** Removes every tab opened since the last call. */
const closeTabs = () => frames.splice(0).forEach((f) => f.remove());

/**
 * A multi-tab suite's hooks (the runner's config read first; after each test, its tabs removed
 * and its clients closed) and its client maker: a client of the `sum` site with short retries
 * and a quiet logger, on a new namespace (`label`) unless told.
 */
export function tabSuite(label: string): (options?: Partial<ClientOptions>) => OmniClient {
  let cfg: TestConfig;
  const clients: OmniClient[] = [];
  before(async () => {
    cfg = await testConfig();
  });
  afterEach(async () => {
    closeTabs();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  return (options = {}) => {
    const c = createClient({
      endpoint: cfg.endpoint,
      publishableKey: cfg.sites.sum.publishableKey,
      namespace: uniqueNs(label),
      retry: { baseMs: 20, maxMs: 200 },
      timeoutMs: 3000,
      logger: quietLogger(),
      ...options,
    });
    clients.push(c);
    return c;
  };
}

/** A real second page of the origin (test/browser/sdk-tab.html) with a client on `ns`. */
export async function openTab(
  ns: string,
  more = '',
): Promise<{ frame: HTMLIFrameElement; win: TabWindow; client: OmniClient }> {
  const frame = document.createElement('iframe');
  frame.src = `/test/browser/sdk-tab.html?ns=${encodeURIComponent(ns)}${more}`;
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  const win = frame.contentWindow as TabWindow;
  return { frame, win, client: await win.omniReady };
}

/** Resolves once `n` tabs of `ns` hold their tab locks (taken as they start, asynchronously). */
export async function tabsHolding(ns: string, n: number) {
  const held = async () =>
    ((await navigator.locks.query()).held ?? []).filter((l) => l.name?.startsWith(`${ns}:tab:`))
      .length;
  while ((await held()) < n) await new Promise(requestAnimationFrame);
}

/** The cart the server holds for the device of `token`: quantity by line key. */
export async function serverCart(token: string): Promise<Record<string, number>> {
  const server = await pullAs(token);
  return Object.fromEntries(server.state.cart.lines.map((l) => [l.key, l.qty]));
}

/** From now on the page's IndexedDB writes never commit (it is torn down mid-write). */
export function neverCommits(win: TabWindow) {
  win.IDBTransaction.prototype.commit = function (this: IDBTransaction) {
    this.abort();
  };
}

/**
 * Holds a readwrite transaction on the main database of `ns` (or, with `drafts`, its drafts
 * database; made with the SDK's schema if it is not there yet) until the returned function is
 * called, which also closes this connection: the client's transactions on that database wait
 * behind it, so the test decides what is still in flight.
 */
export function holdStore(ns: string, drafts = false): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(drafts ? `${ns}:drafts` : ns, 1);
    open.onupgradeneeded = () => {
      if (drafts) return void open.result.createObjectStore('drafts');
      open.result.createObjectStore('meta');
      open.result.createObjectStore('outbox', { keyPath: 'seq' });
    };
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      let held = true;
      const names = drafts ? ['drafts'] : ['meta', 'outbox'];
      const store = db.transaction(names, 'readwrite').objectStore(names[0]!);
      // A transaction stays active while it has a request in flight.
      const spin = () => void (held && (store.get(0).onsuccess = spin));
      spin();
      resolve(() => {
        held = false;
        db.close();
      });
    };
  });
}
