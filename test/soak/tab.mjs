// One tab of the soak's site, whatever drives it: its page (puppeteer's, or test/soak/webkit.mjs's
// for WebKit), the events its page reported (through a binding, or a beacon to the origin
// where no binding exists), waits on those events, and the engine's way to crash it.

/** Rejects with `what` after `ms`: every wait of the soak tests is bounded. */
export function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One tab: its page, the events it reported, and waits on them. */
export class Tab {
  constructor(name) {
    this.page = null;
    this.name = name;
    this.crasher = null;
    this.events = [];
    this.waiters = new Set();
    this.crashed = false;
    this.closed = false;
    this.cdp = null;
  }

  /**
   * Gives the tab its page (open and loaded), and `crash(tab)`: the engine's way to crash the
   * page's renderer without pagehide or unload, resolving once it is dead (null where the
   * engine cannot, or the tab was not opened `crashable`).
   */
  attach(page, crash) {
    this.page = page;
    this.crasher = crash;
    page.on('close', () => {
      this.closed = true;
      this.hear({ type: 'closed', tab: this.name, at: Date.now() });
    });
  }

  hear(e) {
    this.events.push(e);
    for (const w of this.waiters) w(e);
  }

  /** Resolves with the first event (from now on, or already heard after `since`) that fits. */
  next(fits, ms, what, since = this.events.length) {
    const seen = this.events.slice(since).find(fits);
    if (seen) return Promise.resolve(seen);
    let waiter;
    const p = new Promise((resolve) => {
      waiter = (e) => fits(e) && resolve(e);
      this.waiters.add(waiter);
    });
    return deadline(p, ms, `${this.name}: ${what}`).finally(() => this.waiters.delete(waiter));
  }

  /** The page's SDK has loaded its state (this load of the page). */
  ready(since = 0, ms = 30000) {
    return this.next((e) => e.type === 'ready', ms, 'page ready', since);
  }

  /** Runs `fn(window.soak, arg)` in the page, within a deadline. */
  run(fn, arg, ms = 30000) {
    return deadline(this.page.evaluate(fn, arg), ms, `${this.name}: ${String(fn).slice(0, 60)}`);
  }

  /**
   * Syncs this tab (`client.sync()`) and resolves with whether it was stuck: not finished after
   * `stuckMs` (15 s: far beyond a sync on a busy machine). Stuck is a stored change waiting for
   * a push nobody starts (the leader never heard of it), or a tab whose count of pending
   * changes never drops; a fresh change from this tab (a recently viewed item) makes the leader
   * push the whole outbox, so the oracle can still judge what was lost. A stuck sync fails the
   * run all the same, and with SOAK_DEBUG set what the tab saw is printed.
   */
  async settle(stuckMs = 15000) {
    try {
      await this.run(() => window.soak.sync(), undefined, stuckMs);
      return false;
    } catch {
      const seen = await this.run(async () => ({
        status: window.soak.client.status,
        leader: await window.soak.leaderTab(),
      }));
      let after = 'synced after a new change';
      try {
        await this.run(
          () => (window.soak.client.recentlyViewed.track('NUDGE'), window.soak.sync()),
          undefined,
          stuckMs,
        );
      } catch {
        after = 'still stuck after a new change';
      }
      if (process.env.SOAK_DEBUG)
        console.warn(`${this.name}: stuck, ${after}`, JSON.stringify(seen));
      return true;
    }
  }

  /** DevTools' CPU slowdown of this tab's renderer (1 = none; Chromium only). */
  async throttle(rate) {
    this.cdp ??= await this.page.createCDPSession();
    await this.cdp.send('Emulation.setCPUThrottlingRate', { rate });
  }

  /** Crashes the renderer (no unload, no pagehide: a tab killed by the OS or a bug). */
  async crash() {
    if (!this.crasher)
      throw new Error(
        `${this.name}: cannot be crashed (not opened crashable, or its engine cannot)`,
      );
    await this.crasher(this);
    this.crashed = true;
    this.hear({ type: 'crashed', tab: this.name, at: Date.now() });
  }

  /** Closes the tab as a user does (pagehide and unload run). */
  async close() {
    if (this.closed || !this.page.browser().connected) return;
    await this.page.close({ runBeforeUnload: false });
  }
}

/**
 * Waits until the browser's lock manager says `expected` holds the SDK's leader lock (asked
 * through `tab`), polling within a deadline; resolves with the time it took (ms).
 */
export async function waitLeader(tab, expected, ms = 10000) {
  return tab.run(
    async ({ expected, ms }) => {
      const start = Date.now();
      for (;;) {
        const leader = await window.soak.leaderTab();
        if (expected === undefined ? leader !== null : leader === expected)
          return Date.now() - start;
        if (Date.now() - start > ms) throw new Error(`leader is ${leader}, not ${expected}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    { expected, ms },
    ms + 5000,
  );
}
