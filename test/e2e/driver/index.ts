// The end-to-end journeys' browser layer: what test/e2e/journeys.test.ts needs from a browser,
// the same in every engine. An engine backend (puppeteer.ts: Chromium over CDP, Firefox over
// WebDriver BiDi; webkit.ts: WebKitGTK over classic WebDriver) gives devices (isolated storage)
// and pages with a few primitives: navigate, run a script, click the element a script returns,
// press and type keys, screenshot, wait for the network to settle. Locators, waits and
// evaluate are built here on those primitives, and elements are found by one in-page script
// (in-page.js) in every engine, so a role and a name mean the same thing everywhere.
import { readFileSync } from 'node:fs';
import { engines } from '../../browser/engines.mjs';

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export type Key = 'Enter' | 'Tab' | 'Escape' | 'Backspace';
export interface Viewport {
  width: number;
  height: number;
}

/** One page (tab) of a device, as a backend drives it. */
export interface PageBackend {
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /** Runs `body` as a function body in the page with `args` as `arguments`; awaits a promise. */
  run<T>(body: string, args: unknown[]): Promise<T>;
  /** Clicks, with real input events, the element that `body` (as in `run`) returns. */
  click(body: string, args: unknown[]): Promise<void>;
  /** Presses and releases a key in the focused element. */
  press(key: Key): Promise<void>;
  /** Types text into the focused element, one key after the other. */
  type(text: string): Promise<void>;
  screenshot(path: string): Promise<void>;
  /** Resolves once no request but event streams has been in flight for half a second. */
  idle(timeout: number): Promise<void>;
  /** Runs `source` in each new document of the page before its own scripts (Puppeteer only). */
  addInitScript?(source: string): Promise<void>;
}

/** A device: its own storage (IndexedDB, cookies) and pages; `errors` collects what they log. */
export interface DeviceBackend {
  newPage(): Promise<PageBackend>;
  /** Makes the demo API unreachable for this device (true) or reachable again (false). */
  blockApi(blocked: boolean): Promise<void>;
  readonly errors: string[];
  /** What its pages logged as warnings (the SDK's own: a storage that failed), where known. */
  readonly warnings?: string[];
  close(): Promise<void>;
}

export interface EngineBackend {
  readonly name: EngineName;
  readonly label: string;
  newDevice(viewport: Viewport): Promise<DeviceBackend>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** The storefront's origin. */
  storefront: string;
  /** The demo API's origin, which `blockApi` cuts off. */
  api: string;
  /** WebKit only: false turns its back/forward cache off (on by default, as shoppers have it). */
  webkitPageCache?: boolean;
}

/** Starts the engine named by OMNIKIT_ENGINE (Chromium by default). */
export async function launch(options: LaunchOptions): Promise<EngineBackend> {
  const name = (process.env.OMNIKIT_ENGINE ?? 'chromium') as EngineName;
  const engine = engines[name];
  if (!engine) throw new Error(`OMNIKIT_ENGINE=${name}: not one of chromium, firefox, webkit`);
  const found = engine.find();
  if (!found) throw new Error(`${engine.label} is not installed: ${engine.install}`);
  if (name === 'webkit') return (await import('./webkit.js')).launchWebKit(found, options);
  return (await import('./puppeteer.js')).launchPuppeteer(name, found, options);
}

const DEFAULT_TIMEOUT = 30_000;
const POLL_MS = 50;

/** Polls `check` until it gives a value other than undefined; throws its last error at the end. */
async function poll<T>(
  what: string,
  timeout: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      // A navigation in progress destroys the script's context; the next try sees the new page.
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what}${last ? ` (last try: ${last})` : ''}`,
        { cause: last },
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const inPage = readFileSync(new URL('./in-page.js', import.meta.url), 'utf8');
const helpers = `${inPage}\nconst q = window.__omnikitE2E;\n`;

type Text = string | RegExp;
type Matcher = string | { source: string; flags: string };
const matcher = (t: Text): Matcher =>
  typeof t === 'string' ? t : { source: t.source, flags: t.flags };

type Step =
  | { kind: 'css'; css: string }
  | { kind: 'role'; role: string; name?: Matcher; exact?: boolean }
  | { kind: 'text' | 'label'; text: Matcher; exact?: boolean }
  | { kind: 'first' };

/** Playwright's locator, the part the journeys use: lazy, strict, re-resolved on every use. */
export class Locator {
  constructor(
    private readonly page: Page,
    private readonly steps: Step[],
  ) {}

  private then_(step: Step) {
    return new Locator(this.page, [...this.steps, step]);
  }
  locator(css: string) {
    return this.then_({ kind: 'css', css });
  }
  getByRole(role: string, o: { name?: Text; exact?: boolean } = {}) {
    const name = o.name === undefined ? {} : { name: matcher(o.name) };
    return this.then_({ kind: 'role', role, ...name, exact: o.exact ?? false });
  }
  getByText(text: Text, o: { exact?: boolean } = {}) {
    return this.then_({ kind: 'text', text: matcher(text), exact: o.exact ?? false });
  }
  getByLabel(text: Text, o: { exact?: boolean } = {}) {
    return this.then_({ kind: 'label', text: matcher(text), exact: o.exact ?? false });
  }
  first() {
    return this.then_({ kind: 'first' });
  }

  /** Waits until the one element is visible (or, for 'hidden', until none is). */
  async waitFor(o: { state?: 'visible' | 'hidden'; timeout?: number } = {}): Promise<void> {
    const state = o.state ?? 'visible';
    await this.page
      .explained(`${this} to be ${state}`, o.timeout, async () => {
        const shown = await this.page.backend.run<boolean[]>(
          `${helpers}return q.resolve(arguments[0]).map(q.visible);`,
          [this.steps],
        );
        if (shown.length > 1) throw new StrictError(`${shown.length} elements match ${this}`);
        const visible = shown[0] === true;
        return (state === 'visible') === visible ? true : undefined;
      })
      .catch((e: Error) => {
        throw e.cause instanceof StrictError ? e.cause : e;
      });
  }

  private body(action: string) {
    return `${helpers}const el = q.one(arguments[0]);\n${action}`;
  }

  async click(): Promise<void> {
    await this.waitFor();
    await poll(`${this} to receive the click`, DEFAULT_TIMEOUT, async () =>
      (await this.page.backend.run(this.body('return q.clickable(el);'), [this.steps]))
        ? true
        : undefined,
    );
    await this.page.backend.click(this.body('return el;'), [this.steps]);
  }
  async focus(): Promise<void> {
    await this.waitFor();
    await this.page.backend.run(this.body('el.focus();'), [this.steps]);
  }
  /** Clears the field and types `text` into it with the keyboard, then checks it holds it. */
  async fill(text: string): Promise<void> {
    await this.click();
    if (
      await this.page.backend.run<boolean>(this.body("el.select(); return el.value !== '';"), [
        this.steps,
      ])
    )
      await this.page.backend.press('Backspace');
    await this.page.backend.type(text);
    const value = await this.page.backend.run<string>(this.body('return el.value;'), [this.steps]);
    if (value !== text)
      throw new Error(
        `${this} holds ${JSON.stringify(value)} after typing ${JSON.stringify(text)}`,
      );
  }
  /** Chooses the option with `value` as Playwright does: sets it, then fires input and change. */
  async selectOption(value: string): Promise<void> {
    await this.waitFor();
    await this.page.backend.run(
      this.body(`
        if (![...el.options].some((o) => o.value === arguments[1])) throw new Error('no option ' + arguments[1]);
        el.value = arguments[1];
        el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));`),
      [this.steps, value],
    );
  }
  async getAttribute(name: string): Promise<string | null> {
    await this.waitFor();
    return this.page.backend.run(this.body('return el.getAttribute(arguments[1]);'), [
      this.steps,
      name,
    ]);
  }
  /** Runs `fn` in the page with the element. */
  async evaluate<R>(fn: (el: Element) => R): Promise<R> {
    return this.page.backend.run(this.body(`return (${fn.toString()})(el);`), [this.steps]);
  }

  toString() {
    return this.steps
      .map((s) =>
        s.kind === 'css'
          ? s.css
          : s.kind === 'first'
            ? 'first()'
            : s.kind === 'role'
              ? `role=${s.role}${s.name === undefined ? '' : `[name=${JSON.stringify(s.name)}]`}`
              : `${s.kind}=${JSON.stringify(s.text)}`,
      )
      .join(' >> ');
  }
}

class StrictError extends Error {}

/** A page of a device, in Playwright's terms. */
export class Page {
  readonly keyboard = { press: (key: Key) => this.backend.press(key) };

  constructor(
    readonly backend: PageBackend,
    readonly device: Device,
  ) {}

  goto(url: string) {
    return this.backend.goto(url);
  }
  reload() {
    return this.backend.reload();
  }
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return this.backend.run(`return (${fn.toString()})(arguments[0]);`, [arg ?? null]);
  }
  /** Waits until `fn` returns something truthy in the page. */
  async waitForFunction<A = undefined>(
    fn: (arg: A) => unknown,
    arg?: A,
    o: { timeout?: number } = {},
  ): Promise<void> {
    await this.explained(`${fn}`, o.timeout, async () =>
      (await this.evaluate(fn, arg)) ? true : undefined,
    );
  }
  /**
   * `poll`, and when it times out, what the page's client held then (its address, status,
   * cart and the text of its main element) appended to the error: a wait that fails once in
   * many runs then says why, without a rerun.
   */
  async explained<T>(what: string, timeout = DEFAULT_TIMEOUT, check: () => Promise<T | undefined>) {
    return poll(what, timeout, check).catch(async (e: Error) => {
      const seen = await this.backend
        .run<string>(`${helpers}return JSON.stringify(q.explain());`, [])
        .catch((why: unknown) => `(could not read the page: ${why})`);
      e.message += `\n  the page then: ${seen}`;
      const warned = this.device.backend.warnings ?? [];
      if (warned.length) e.message += `\n  the device's warnings: ${warned.join('\n    ')}`;
      throw e;
    });
  }
  /** Waits until the network settles (Playwright's 'networkidle', event streams aside). */
  waitForNetworkIdle(o: { timeout?: number } = {}) {
    return this.backend.idle(o.timeout ?? DEFAULT_TIMEOUT);
  }
  locator(css: string) {
    return new Locator(this, [{ kind: 'css', css }]);
  }
  getByRole(role: string, o: { name?: Text; exact?: boolean } = {}) {
    return new Locator(this, []).getByRole(role, o);
  }
  getByLabel(text: Text, o: { exact?: boolean } = {}) {
    return new Locator(this, []).getByLabel(text, o);
  }
  screenshot(path: string) {
    return this.backend.screenshot(path);
  }
  /** Playwright's addInitScript: `source` runs in each new document before the page's scripts. */
  async addInitScript(source: string) {
    if (!this.backend.addInitScript) throw new Error('this engine runs no init scripts');
    await this.backend.addInitScript(source);
  }
  /** Runs a classic script's source in the page (a stand-in for Playwright's addScriptTag). */
  addScript(source: string) {
    return this.backend.run(`(0, eval)(arguments[0]);`, [source]);
  }
}

/** A device: its own storage and pages; `errors` holds what its pages logged as errors. */
export class Device {
  constructor(readonly backend: DeviceBackend) {}
  get errors() {
    return this.backend.errors;
  }
  async newPage(): Promise<Page> {
    return new Page(await this.backend.newPage(), this);
  }
  blockApi(blocked: boolean) {
    return this.backend.blockApi(blocked);
  }
  close() {
    return this.backend.close();
  }
}
