// Opt-in (`@omnikit/sdk/catalog`): a live stock watch. The server's stream says each change;
// while it is not live (a site's service worker may hold it, a server refuse it), the watch
// asks for each sku every `pollMs`, as the sync's poke stream falls back to pulls (stream.ts).
import { OmniError, type StockAnswer } from '@omnikit/protocol';
import type { StockWatchOptions } from './catalog.js';
import { field, retryAfter, safely } from './core.js';

export interface StockWatchDeps {
  /** Opens the server's stream of the watched skus. */
  stream(): EventSource;
  /** Asks for one sku's answer (`stock.near`). */
  ask(sku: string): Promise<StockAnswer>;
  /** The stops of the catalog's open watches: `close()` calls them. */
  watching: Set<() => void>;
}

/**
 * Calls `cb` with each sku's answer now and after every change (never twice the same); returns
 * the unsubscribe. `skus` are checked already.
 */
export function watchStock(
  deps: StockWatchDeps,
  skus: readonly string[],
  cb: (answer: StockAnswer) => void,
  { onError, pollMs = 15_000 }: Omit<StockWatchOptions, 'near'>,
): () => void {
  // A timer's delay is a 32-bit int: a longer one would fire at once.
  if (!(pollMs >= 1 && pollMs < 2 ** 31)) {
    throw new OmniError('invalid_argument', 'pollMs must be from 1 to 2147483647');
  }
  /** Tells the page's `onError`; should it throw, the watch goes on. */
  const report = (e: OmniError) => safely(() => onError?.(e));
  /** The last answer given, by sku (as JSON): a poll that finds no change is not one. */
  const given = new Map<string, string>();
  const give = (a: StockAnswer) => {
    const json = JSON.stringify(a);
    if (given.get(a.sku) === json) return;
    given.set(a.sku, json);
    safely(() => cb(a));
  };
  let es: EventSource;
  /** When the stream opened, and was last heard from; its heartbeat (ms; 0: none yet). */
  let opened = 0;
  let heard = 0;
  let beat = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Not before this may polls run again (performance.now()); `busy` while they run. */
  let next = 0;
  let busy = false;
  const live = () => deps.watching.has(stop);
  const stop = () => {
    deps.watching.delete(stop);
    clearTimeout(timer);
    es.close();
  };
  /**
   * Asks for each sku; an answer is dropped if the stream spoke meanwhile (it came back,
   * with answers as new or newer). Stops at an error, reported once: a refusal (not
   * retryable) ends the watch; else resolves with the wait the server asked for, if any.
   */
  const poll = async () => {
    for (const sku of skus) {
      if (!live()) return;
      const before = heard;
      let answer: StockAnswer;
      try {
        answer = await deps.ask(sku);
      } catch (e) {
        if (!live()) return;
        if (!(e as OmniError).retryable) stop();
        report(e as OmniError);
        return retryAfter(e);
      }
      if (live() && heard === before) give(answer);
    }
  };
  /**
   * One chain of timers. While the stream is not live (it has not beaten, was silent for
   * two beats, or closed) each turn polls; then replaces the stream if closed for a turn,
   * or silent for one (3 s at least: time to connect), as the sync's poke stream is.
   */
  const tick = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      let wait = pollMs;
      if (es.readyState === 2 || !beat || performance.now() - heard >= 2 * beat) {
        // poll() never throws: its errors and the page's callbacks are caught.
        busy = true;
        // The server's Retry-After too may be longer than a timer can wait.
        wait = Math.min(Math.max(pollMs, (await poll()) ?? 0), 2 ** 31 - 1);
        busy = false;
        const now = performance.now();
        next = now + wait;
        if (
          live() &&
          (es.readyState === 2
            ? now - opened >= pollMs
            : now - heard >= Math.max(pollMs, 2 * beat, 3000))
        ) {
          es.close();
          open();
        }
      }
      if (live()) tick(wait);
    }, ms);
  };
  const open = () => {
    const s = (es = deps.stream());
    opened = heard = performance.now();
    beat = 0;
    s.addEventListener('heartbeat', (e) => {
      if (es !== s) return;
      heard = performance.now();
      beat = +(e as MessageEvent<string>).data;
    });
    s.addEventListener('stock', (e) => {
      if (es !== s) return;
      heard = performance.now();
      let answer: StockAnswer;
      try {
        answer = JSON.parse((e as MessageEvent<string>).data) as StockAnswer;
        field(answer, 'stores', Array.isArray);
      } catch (cause) {
        return report(new OmniError('internal', 'malformed stock answer', { cause }));
      }
      give(answer);
    });
    s.addEventListener('error', () => {
      if (es !== s) return;
      // Closed: the server answered with an error (an unknown sku, or too many streams
      // from this address), or something between gave up. Polls ask at once (unless they
      // asked less than a turn ago, or the server asked to wait) and report a refusal.
      if (s.readyState !== 2) {
        report(
          new OmniError('network', 'the stock stream was lost, reconnecting', { retryable: true }),
        );
      } else if (!busy && live() && performance.now() >= next) tick(0);
    });
  };
  open();
  deps.watching.add(stop);
  // A live stream beats at once: a first poll soon, should it not (a held stream).
  tick(Math.min(pollMs, 3000));
  return stop;
}
