// An event stream read as a browser's EventSource reads it, for the contract flows in Node (which
// has no EventSource before Node 22): its events across answers, and when an answer ends after
// asking for `retry:`, a reconnect to the same URL with `Last-Event-ID` (the id it saw last)
// after that delay, until a reconnect is refused. The server and the mock's live streams send no
// `retry:`, so their one answer is the whole stream; the mock's long-poll streams take many.

export interface StreamEvent {
  event: string;
  /** The stream's last event id when this event was dispatched. */
  id: string;
  data: string;
}

export class EventSourceReader {
  private readonly events: StreamEvent[] = [];
  private consumed = 0;
  private lastId = '';
  private retry: number | undefined;
  private done = false;
  private error: Error | undefined;
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    /** Checks every answer (the first and each reconnect's); reads the body only of a refusal. */
    private readonly check: (answer: Response) => Promise<void>,
  ) {}

  /** Opens the stream: its reader, and its first answer (whose status says if it opened). */
  static async open(
    url: string,
    headers: Record<string, string>,
    check: (answer: Response) => Promise<void>,
  ): Promise<{ reader: EventSourceReader; first: Response }> {
    const reader = new EventSourceReader(url, headers, check);
    const first = await reader.connect();
    void reader.pump(first);
    return { reader, first };
  }

  private async connect(): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.headers };
    if (this.lastId) headers['last-event-id'] = this.lastId;
    const answer = await fetch(this.url, { headers, signal: this.abort.signal });
    await this.check(answer);
    return answer;
  }

  private async pump(first: Response): Promise<void> {
    let answer = first;
    try {
      while (answer.status === 200 && answer.body) {
        await this.read(answer.body);
        if (this.retry === undefined || this.abort.signal.aborted) break;
        await new Promise((resolve) => setTimeout(resolve, this.retry));
        let next: Response | undefined;
        try {
          next = await this.connect();
        } catch (err) {
          // A network error ends it here (an EventSource would try again later: the flows need
          // no more); an answer that failed its check fails the test.
          if (!(err instanceof TypeError) && !this.abort.signal.aborted) this.error = err as Error;
          break;
        }
        // A refused reconnect ends the stream, as EventSource's does.
        answer = next;
      }
    } catch {
      // Closed by close() while reading.
    }
    this.done = true;
    this.wake();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  /** One block, as the HTML standard's event stream interpretation has it (LF line ends). */
  private parse(block: string): void {
    let event = '';
    let data: string[] | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') (data ??= []).push(value);
      else if (field === 'id' && !value.includes('\0')) this.lastId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
    // The last event id is set even by a block without data, which dispatches nothing.
    if (data)
      this.events.push({ event: event || 'message', id: this.lastId, data: data.join('\n') });
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves on the next event or end of stream, or after `ms`. */
  private change(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** The next not-yet-consumed event matching `test` (events before it are consumed). */
  async next(test: (e: StreamEvent) => boolean, timeoutMs = 5000): Promise<StreamEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.consumed < this.events.length) {
        const e = this.events[this.consumed++]!;
        if (test(e)) return e;
      }
      if (this.error) throw this.error;
      if (this.done) throw new Error('stream ended while waiting for an event');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      await this.change(left);
    }
  }

  /** Resolves when the stream has ended (an answer without `retry:`, or a refused reconnect). */
  async ended(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.done) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream still open after ${timeoutMs} ms`);
      await this.change(left);
    }
    if (this.error) throw this.error;
  }

  close(): void {
    this.abort.abort();
  }
}
