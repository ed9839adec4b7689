// The one server-sent-events writer. Every event stream of the API (sync pokes, live stock) is
// opened here, so they all behave alike: slots taken before the stream opens (429 when one is
// full) and freed when it ends, an immediate heartbeat event that flushes the headers, heartbeats, an
// end on client abort, and an end at server shutdown that lets `close()` finish.
import type { Context } from 'hono';
import type { ConcurrencyLimiter } from './limits.js';

/**
 * Headers of every server-sent-event answer: no caching or transformation by proxies, and no
 * buffering by nginx-style proxies, so each event leaves at once.
 */
export const eventStreamHeaders: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** One open slot a stream holds: `limiter` allows so many per `key` (a device, an address). */
export interface StreamSlot {
  limiter: ConcurrencyLimiter;
  key: string;
  /** Names what is limited in the 429's message, e.g. "event streams for this device". */
  what: string;
}

export interface EventStream {
  readonly closed: boolean;
  /** Sends one event; `data` is one line of JSON. `id` is what a reconnect resumes from. */
  send(event: string, data: string, id?: number): void;
  /** Ends the stream (idempotent); its slots are freed and the `onClose` callbacks run. */
  close(): void;
  /** Runs `fn` when the stream ends, however it ends (at once if it already has). */
  onClose(fn: () => void): void;
  /** The HTTP answer carrying the stream. Events sent before it are delivered first. */
  response(): Response;
}

export interface OpenOptions {
  /** The request's signal: the stream ends when the client goes away. */
  signal: AbortSignal;
  slots?: readonly StreamSlot[];
  /** Heartbeat interval, when this stream needs its own. */
  heartbeatMs?: number;
}

/**
 * A client reconnecting after a drop says which event it saw last: `Last-Event-ID`, or
 * `?lastEventId=` for `EventSource` reconnects that come back with a new URL (a new ticket).
 */
export function resumeFrom(c: Context): number | undefined {
  const value = c.req.header('last-event-id') ?? c.req.query('lastEventId');
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Takes every slot or none: a 429 from the second frees the first. */
function acquire(slots: readonly StreamSlot[]): () => void {
  const releases: (() => void)[] = [];
  try {
    for (const slot of slots) releases.push(slot.limiter.acquire(slot.key, slot.what));
  } catch (err) {
    for (const release of releases) release();
    throw err;
  }
  return () => releases.forEach((release) => release());
}

/** The open streams of one server: the writer every route uses, and what shutdown ends. */
export class EventStreams {
  private readonly open = new Set<EventStream>();
  private readonly encoder = new TextEncoder();

  private shutDown = false;

  constructor(private readonly heartbeatMs: number) {}

  /** Open streams (tests, metrics). */
  get size(): number {
    return this.open.size;
  }

  /**
   * Opens a stream: takes its slots (throws the 429 when one is full), and from then on ends
   * it on abort, on `close()` and at shutdown. Build the answer with `response()`.
   */
  create(options: OpenOptions): EventStream {
    const release = acquire(options.slots ?? []);
    const { signal } = options;
    const streams = this.open;
    const encoder = this.encoder;
    const heartbeatMs = options.heartbeatMs ?? this.heartbeatMs;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let queued: string[] | undefined = [];
    let closed = false;
    const cleanups: (() => void)[] = [release];

    const write = (text: string): void => {
      if (closed) return;
      if (queued) {
        queued.push(text);
        return;
      }
      try {
        controller?.enqueue(encoder.encode(text));
      } catch {
        stream.close();
      }
    };

    const stream: EventStream = {
      get closed() {
        return closed;
      },
      send(event, data, id) {
        write(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${data}\n\n`);
      },
      close() {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        streams.delete(stream);
        signal.removeEventListener('abort', stream.close);
        for (const cleanup of cleanups.splice(0)) cleanup();
        try {
          controller?.close();
        } catch {
          // Already closed or cancelled by the client.
        }
      },
      onClose(fn) {
        if (closed) fn();
        else cleanups.push(fn);
      },
      response() {
        const body = new ReadableStream<Uint8Array>({
          start(ctrl) {
            if (closed) {
              // The client went away (or the server began to shut down) before the answer.
              ctrl.close();
              return;
            }
            controller = ctrl;
            const early = queued ?? [];
            queued = undefined;
            // The heartbeat is an event, not a comment, so a page can tell a silent stream (a
            // service worker or a proxy holding it) from a quiet one; its data is the interval in
            // ms. An immediate one flushes the headers, so the client knows the stream is open.
            const beat = `event: heartbeat\ndata: ${heartbeatMs}\n\n`;
            write(beat);
            for (const text of early) write(text);
            heartbeat = setInterval(() => write(beat), heartbeatMs);
          },
          cancel() {
            stream.close();
          },
        });
        return new Response(body, { status: 200, headers: eventStreamHeaders });
      },
    };
    streams.add(stream);
    signal.addEventListener('abort', stream.close);
    // A request that was still authenticating when the server began to shut down gets a
    // stream that ends at once: one left open would hold `close()` forever.
    if (signal.aborted || this.shutDown) stream.close();
    return stream;
  }

  /** Ends every open stream (server shutdown); streams opened after this end at once. */
  closeAll(): void {
    this.shutDown = true;
    for (const stream of [...this.open]) stream.close();
  }
}
