// Element test seams: clients of the runner's real @omnikit/server (the `shop` site of
// test/browser/server-plugin.mjs), elements mounted under a client provider, and waits on
// conditions (never on time).
import { fixture, html, waitUntil } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { render, type TemplateResult } from 'lit';
import {
  browserNetwork,
  createClient,
  type ClientOptions,
  type Network,
  type OmniClient,
} from '@omnikit/sdk';
import { provideClient } from '../src/context.js';

export interface TestConfig {
  endpoint: string;
  sites: Record<string, { publishableKey: string; adminKey?: string }>;
}

let config: Promise<TestConfig> | undefined;
export const testConfig = () =>
  (config ??= fetch('/__omni/test-config').then((r) => r.json() as Promise<TestConfig>));

/**
 * Presses a chord of real keys, held in order and released in reverse (Shift+Tab:
 * `pressChord('Shift', 'Tab')`), in every engine: sendKeys cannot hold a key over WebDriver
 * (WebKit), so the runner's `press-chord` command does it (test/browser/key-chord.mjs).
 */
export const pressChord = (...keys: string[]) =>
  executeServerCommand<boolean, { keys: string[] }>('press-chord', { keys });

/**
 * Types `text` as a person does, one key pressed and released after the other. sendKeys'
 * `type` over WebDriver (WebKit) holds every key down before releasing any, so a repeated
 * character is typed once ("LS1 1UR" became "LS1 UR").
 */
export async function typeKeys(text: string) {
  for (const key of text) await sendKeys({ press: key });
}

let counter = 0;
/** A storage namespace of its own: one per simulated browser. */
export const uniqueNs = (label = 'el') =>
  `omnikit-elements:${label}:${Date.now().toString(36)}:${++counter}`;

const open: OmniClient[] = [];

/** A shopper of the `shop` site (GBP), in a browser of its own (`namespace`). */
export async function shopper(options: Partial<ClientOptions> = {}): Promise<OmniClient> {
  const cfg = await testConfig();
  const client = createClient({
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites['shop']!.publishableKey,
    namespace: uniqueNs(),
    currency: 'GBP',
    retry: { baseMs: 20, maxMs: 200 },
    // Generous: the machine running the tests may be busy; a slow answer is not a failure here.
    timeoutMs: 10000,
    ...options,
  });
  open.push(client);
  return client;
}

/** Closes every client a test made. */
export const closeClients = () => Promise.all(open.splice(0).map((c) => c.close()));

/**
 * Renders `template` inside a container that provides `client` (none: no provider) and returns
 * its first element once it has rendered.
 */
export async function mount<T extends HTMLElement>(
  template: TemplateResult,
  client?: OmniClient,
  attrs: Record<string, string> = {},
): Promise<T> {
  const container = document.createElement('div');
  for (const [k, v] of Object.entries(attrs)) container.setAttribute(k, v);
  if (client) provideClient(container, client);
  render(template, container);
  await fixture(html`${container}`);
  const el = container.firstElementChild as T & { updateComplete?: Promise<unknown> };
  await el.updateComplete;
  return el;
}

/** Resolves once `predicate` holds (checked every frame); fails with `what` after 8 s. */
export const until = (predicate: () => unknown, what: string, timeout = 8000) =>
  waitUntil(predicate, `timed out waiting for ${what}`, { timeout, interval: 16 });

/** The element's shadow root. */
export const shadow = (el: Element) => el.shadowRoot!;

/** Text of the first match in the element's shadow root ('' when none). */
export const textOf = (el: Element, selector: string) =>
  shadow(el).querySelector(selector)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

/** The visible (not [hidden]) slot of that name, or null. */
export function shownSlot(el: Element, name: string): HTMLSlotElement | null {
  const slot = shadow(el).querySelector<HTMLSlotElement>(`slot[name="${name}"]`);
  return slot && slot.closest('[hidden]') === null ? slot : null;
}

/** Calls the shop's admin API as a POS/ERP would (relayed by the runner, see server-plugin). */
export async function admin(
  method: 'POST' | 'PUT',
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const q = new URLSearchParams({ site: 'shop', method, path });
  const res = await fetch(`/__omni/admin?${q}`, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as { status: number; body: unknown };
}

/** A product of the elements tests' own (skus no other test reads), imported into the catalog. */
export async function ownProduct(sku: string, title = `Test ${sku}`, price = 1500) {
  const res = await admin('POST', '/v1/admin/products/import', {
    products: [{ sku, title, price, currency: 'GBP', url: `/p/${sku}`, image: `/img/${sku}.svg` }],
  });
  if (res.status !== 200) throw new Error(`import ${sku}: ${JSON.stringify(res.body)}`);
}

/** The element's border-box size, rounded to a pixel. */
export function boxOf(el: Element): [number, number] {
  const r = el.getBoundingClientRect();
  return [Math.round(r.width), Math.round(r.height)];
}

/**
 * A second device of the same shopper: a handoff code from `client`, claimed by a new browser.
 * `client` syncs first: a client that never synced has no poke stream open yet (an SDK trait
 * reported to its owner), and the tests are about elements hearing the other device.
 */
export async function secondDevice(client: OmniClient): Promise<OmniClient> {
  await client.sync();
  const { code } = await client.identity.createHandoff();
  const other = await shopper();
  await other.identity.claimHandoff(code);
  return other;
}

export interface TestNetwork extends Network {
  setOnline(online: boolean): void;
  /** Lets the held requests go. */
  release(): void;
}

/**
 * The browser's network with switches: offline, every request fails as a real one does;
 * requests whose URL matches `fail` fail; those matching `hold` wait for `release()`.
 */
export function testNetwork(
  options: { online?: boolean; fail?: RegExp; hold?: RegExp } = {},
): TestNetwork {
  const real = browserNetwork();
  const watchers = new Set<() => void>();
  let online = options.online ?? true;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  return {
    async fetch(input, init) {
      if (!online || options.fail?.test(input)) throw new TypeError('Failed to fetch');
      if (options.hold?.test(input)) await released;
      return real.fetch(input, init);
    },
    eventSource: (url) => real.eventSource(url),
    online: () => online,
    watch(cb) {
      watchers.add(cb);
      return () => watchers.delete(cb);
    },
    setOnline(value) {
      online = value;
      watchers.forEach((cb) => cb());
    },
    release,
  };
}

/** A customer token for `sub`, signed as a brand's backend would. */
export async function customerToken(sub: string): Promise<string> {
  const res = await fetch(`/__omni/sign-token?sub=${encodeURIComponent(sub)}`);
  return ((await res.json()) as { token: string }).token;
}
