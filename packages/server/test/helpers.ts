// Shared by the server tests: a real server on port 0 (in-memory PGlite, or PostgreSQL in a
// schema of its own when DATABASE_URL is set), a small typed client and an SSE reader.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { SignJWT } from 'jose';
import type {
  ErrorBody,
  Mutation,
  Poke,
  PushResponse,
  RegisterDeviceResponse,
  Snapshot,
} from '@omnikit/protocol';
import {
  silentLogger,
  startServer,
  type LogFields,
  type Logger,
  type RunningServer,
  type ServerOptions,
  type SiteConfig,
} from '@omnikit/server';

export const databaseUrl = process.env.DATABASE_URL || undefined;
export const hsSecret = 'test-secret-that-is-long-enough-for-hs256!';
export const origin = 'https://shop.example';

export function testSites(extra: Partial<SiteConfig> = {}): SiteConfig[] {
  return [
    {
      id: 'shop',
      publishableKey: 'pk_shop',
      allowedOrigins: [origin],
      customerToken: { alg: 'HS256', secret: hsSecret },
      issuer: 'https://auth.shop.example',
      audience: 'omnikit:shop',
      adminKey: 'admin-key-of-the-shop',
      mergePolicy: 'sum',
      handoff: { url: 'https://shop.example/handoff', allowLinking: false },
      ...extra,
    },
    {
      id: 'other',
      publishableKey: 'pk_other',
      allowedOrigins: ['https://other.example'],
      customerToken: { alg: 'HS256', secret: hsSecret },
      issuer: 'https://auth.shop.example',
      audience: 'omnikit:other',
    },
  ];
}

export interface TestServer {
  url: string;
  app: RunningServer['app'];
  db: RunningServer['db'];
  gc: RunningServer['gc'];
  schema: string | undefined;
  close(): Promise<void>;
}

/** A fresh schema name per server, so test files never see one another's rows. */
export function freshSchema(): string | undefined {
  return databaseUrl ? `t_${randomBytes(6).toString('hex')}` : undefined;
}

/** Drops a test schema (PostgreSQL only). */
/** Runs `sql` on DATABASE_URL over a connection of its own (not one of the servers'). */
export async function adminQuery<R extends object>(
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string | undefined): Promise<void> {
  if (!databaseUrl || !schema) return;
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** A logger that keeps its lines, for tests that assert what was logged. */
export function capturingLogger(): Logger & { lines: (LogFields & { msg: string })[] } {
  const lines: (LogFields & { msg: string })[] = [];
  const push = (msg: string, fields?: LogFields) => lines.push({ msg, ...fields });
  return { lines, info: push, warn: push, error: push };
}

let template: Promise<Blob> | undefined;

/**
 * An initdb'd, empty PGlite data directory, cached on disk per PGlite version: loading it takes
 * a fraction of a fresh initdb, and every test file starts at least one server.
 */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    // The package does not export its package.json: find it next to the resolved entry.
    const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
    const root = entry.slice(0, entry.lastIndexOf('/dist/'));
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    const file = join(tmpdir(), `omnikit-pglite-template-${version}.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch {
      const db = await PGlite.create();
      const dump = await db.dumpDataDir('none');
      await db.close();
      const bytes = new Uint8Array(await dump.arrayBuffer());
      // Written aside then renamed: parallel test files never read a half-written template.
      const partial = `${file}.${process.pid}.partial`;
      await writeFile(partial, bytes);
      await rename(partial, file);
      return new Blob([bytes]);
    }
  })();
  return template;
}

/** Database options for a test server: PostgreSQL in `schema`, or PGlite from the template. */
export async function testDatabase(
  schema: string | undefined,
): Promise<NonNullable<ServerOptions['database']>> {
  return databaseUrl
    ? { url: databaseUrl, schema, poolSize: 4 }
    : { pgliteTemplate: await pgliteTemplate() };
}

export async function startTestServer(
  options: Partial<ServerOptions> & { schema?: string } = {},
): Promise<TestServer> {
  const { schema: given, ...rest } = options;
  const schema = given ?? freshSchema();
  const server = await startServer({
    port: 0,
    sites: testSites(),
    logger: silentLogger,
    database: await testDatabase(schema),
    // Refusals answered at once: suites count their 429s (fair-limits.test.ts tests the delay).
    refusalDelayMs: 0,
    ...rest,
    // Suites register hundreds of devices from one address; limits.test.ts tests the cap.
    rateLimits: { register: { capacity: 1e6, refillPerSecond: 1e6 }, ...rest.rateLimits },
  });
  return {
    url: server.url,
    app: server.app,
    db: server.db,
    gc: server.gc,
    schema,
    close: async () => {
      await server.close();
      if (!given) await dropSchema(schema);
    },
  };
}

export interface Device extends RegisterDeviceResponse {
  auth: Record<string, string>;
}

export type Answer<T = unknown> = { status: number; body: T; headers: Headers };

/** A thin client over fetch that never throws on HTTP errors. */
export class Api {
  constructor(
    readonly base: string,
    /** Headers added to every call (e.g. a per-call X-Forwarded-For). */
    private readonly extraHeaders: () => Record<string, string> = () => ({}),
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...this.extraHeaders(), ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.base + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  async register(key = 'pk_shop', body: unknown = { channel: 'web' }): Promise<Device> {
    const res = await this.call<RegisterDeviceResponse>('POST', '/v1/devices', {
      body,
      headers: { 'x-omni-key': key },
    });
    if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
    return { ...res.body, auth: { authorization: `Bearer ${res.body.token}` } };
  }

  async push(device: Device, mutations: unknown[]): Promise<Answer<PushResponse>> {
    return this.call<PushResponse>('POST', '/v1/sync/push', {
      body: { deviceId: device.deviceId, mutations },
      headers: device.auth,
    });
  }

  async pushOk(device: Device, mutations: Mutation[]): Promise<PushResponse> {
    const res = await this.push(device, mutations);
    if (res.status !== 200) throw new Error(`push: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async pull(device: Device): Promise<Snapshot> {
    const res = await this.call<Snapshot>('GET', '/v1/sync/pull', { headers: device.auth });
    if (res.status !== 200) throw new Error(`pull: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async ticket(device: Device): Promise<string> {
    const res = await this.call<{ ticket: string }>('POST', '/v1/sync/stream-ticket', {
      headers: device.auth,
    });
    if (res.status !== 201) throw new Error(`ticket: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.ticket;
  }
}

export function errorCode(answer: Answer): string | undefined {
  return (answer.body as Partial<ErrorBody> | null)?.error?.code;
}

/** Mutation builders with increasing `at` times after `start`; `next()` is the next time alone. */
export function mutationHelpers(start: number) {
  let clock = start;
  const next = () => ++clock;
  return {
    next,
    add: (seq: number, sku: string, qty = 1): Mutation => ({
      seq,
      name: 'cart.add',
      args: { sku, qty },
      at: next(),
    }),
    set: (seq: number, sku: string, qty: number): Mutation => ({
      seq,
      name: 'cart.setQuantity',
      args: { sku, qty },
      at: next(),
    }),
    view: (seq: number, sku: string): Mutation => ({
      seq,
      name: 'viewed.add',
      args: { sku },
      at: next(),
    }),
    pref: (seq: number, key: string, value: string | null): Mutation => ({
      seq,
      name: 'prefs.set',
      args: { key, value },
      at: next(),
    }),
  };
}
/** Mutation helpers with increasing `at` times. */
export const m = mutationHelpers(1_700_000_000_000);

/** Signs a customer token as a brand backend would. */
export async function customerToken(
  sub: string,
  options: {
    audience?: string;
    issuer?: string;
    expiresIn?: string | number;
    secret?: string;
  } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(options.issuer ?? 'https://auth.shop.example')
    .setAudience(options.audience ?? 'omnikit:shop')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? hsSecret));
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** Reads a text/event-stream response; `next` waits for the next matching event. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private readonly waiters = new Set<() => void>();
  private consumed = 0;
  private ended = false;
  private error: Error | undefined;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.pump();
  }

  static async open(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<SseReader & { status: number }> {
    const abort = new AbortController();
    const res = await fetch(url, { headers, signal: abort.signal });
    const reader = new SseReader(res, abort);
    return Object.assign(reader, { status: res.status });
  }

  private async pump(): Promise<void> {
    if (!this.response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.parse(block);
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = err as Error;
    }
    this.ended = true;
    this.wake();
  }

  private parse(block: string): void {
    const event: SseEvent = { event: 'message', id: undefined, data: '' };
    let isEvent = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      isEvent = true;
      if (field === 'event') event.event = value;
      if (field === 'id') event.id = value;
      if (field === 'data') event.data += (event.data ? '\n' : '') + value;
    }
    // The heartbeat is an event (pages cannot see comments); tests wait for it as for a
    // comment, and it is not one of the stream's own events.
    if (event.event === 'heartbeat') this.comments.push('heartbeat');
    else if (isEvent) this.events.push(event);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves on the next event, comment or end of stream, or after `ms`. */
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
  async next(test: (e: SseEvent) => boolean = () => true, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.consumed < this.events.length) {
        const e = this.events[this.consumed++] as SseEvent;
        if (test(e)) return e;
      }
      if (this.error) throw this.error;
      if (this.ended) throw new Error('stream ended while waiting for an event');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      await this.change(left);
    }
  }

  /** Waits for a comment line (e.g. `heartbeat`). */
  async comment(text: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const seen = this.comments.length;
    while (!this.comments.slice(seen).includes(text)) {
      if (this.ended) throw new Error('stream ended while waiting for a comment');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${text}" comment within ${timeoutMs} ms`);
      await this.change(left);
    }
  }

  /** Resolves when the server ends the stream. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream still open after ${timeoutMs} ms`);
      await this.change(left);
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** Parses the data of a poke event. */
export function pokeData(e: SseEvent): Poke {
  return JSON.parse(e.data) as Poke;
}
