// The two implementations the contract flows run against, behind one small client that checks
// every answer against the OpenAPI document: @omnikit/mock under msw/node, and the real server
// (in-process, in-memory PGlite or DATABASE_URL, as the server's own tests start it), seeded
// through its admin API with the mock's seeded catalog so both start from the same data.
import { SignJWT } from 'jose';
import { setupServer } from 'msw/node';
import { createMock, seedCatalog, type MockOptions, type OmniMock } from '@omnikit/mock';
import { commerceExtension } from '@omnikit/server';
import { startTestServer } from '../../packages/server/test/helpers.js';
import { EventSourceReader } from './event-source.js';
import { checkAnswer, checkEvent } from './openapi.js';

/** One site, configured the same way on both. */
export const site = {
  publishableKey: 'pk_contract',
  adminKey: 'contract-admin-key-0123456789',
  secret: 'contract-customer-token-secret-0123456789',
  issuer: 'https://auth.shop.example',
  audience: 'omnikit:contract',
  handoffUrl: 'https://shop.example/handoff',
  lowStockThreshold: 5,
};

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  body?: unknown;
  /** A raw body (sent as is, with `content-type` from `headers` or JSON). */
  raw?: string;
  headers?: Record<string, string>;
}

/**
 * An open event stream, read as EventSource reads it (reconnecting when an answer asks it to),
 * its events checked against the document as they are read.
 */
export interface Stream {
  status: number;
  /** The next event named `event`, its data parsed (and validated). */
  next<T>(event: string, test?: (data: T) => boolean): Promise<T>;
  /** Resolves when the other side ends the stream (and refuses to go on with it). */
  ended(): Promise<void>;
  close(): void;
}

export interface Target {
  name: 'mock' | 'server';
  call<T = unknown>(method: string, path: string, options?: CallOptions): Promise<Reply<T>>;
  stream(path: string, headers?: Record<string, string>): Promise<Stream>;
  /** A customer token signed with jose, as a brand's backend (and the server tests) sign them. */
  token(
    sub: string,
    options?: { audience?: string; secret?: string; expiresIn?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

function client(base: string): Pick<Target, 'call' | 'stream' | 'token'> {
  return {
    async call<T>(method: string, path: string, options: CallOptions = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const body =
        options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(base + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text || null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: keep the text (the check says whether that is allowed).
      }
      checkAnswer({
        method,
        path: new URL(base + path).pathname,
        status: res.status,
        headers: res.headers,
        body: parsed,
      });
      return { status: res.status, body: parsed as T, headers: res.headers };
    },
    async stream(path, headers = {}) {
      const pathname = new URL(base + path).pathname;
      // Every answer is checked, a reconnect's too (a refusal with its error body).
      const check = async (answer: Response) =>
        checkAnswer({
          method: 'GET',
          path: pathname,
          status: answer.status,
          headers: answer.headers,
          body: answer.status === 200 ? null : await answer.json(),
        });
      const { reader, first } = await EventSourceReader.open(base + path, headers, check);
      return {
        status: first.status,
        async next<T>(event: string, test: (data: T) => boolean = () => true) {
          const e = await reader.next((x) => x.event === event && test(JSON.parse(x.data) as T));
          const data = JSON.parse(e.data) as T;
          // A heartbeat's data is its interval (ms); the document describes the other events.
          if (event !== 'heartbeat') checkEvent(pathname, data);
          return data;
        },
        ended: () => reader.ended(),
        close: () => reader.close(),
      };
    },
    token(sub, options = {}) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(site.issuer)
        .setAudience(options.audience ?? site.audience)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(new TextEncoder().encode(options.secret ?? site.secret));
    },
  };
}

/** @omnikit/mock answering through msw's Node interceptors. */
export function mockTarget(
  options: Pick<MockOptions, 'eventStreams'> = {},
): Target & { mock: OmniMock } {
  const base = 'https://api.omnikit.test';
  const mock = createMock({
    ...options,
    endpoint: base,
    site: {
      publishableKey: site.publishableKey,
      adminKey: site.adminKey,
      customerToken: { secret: site.secret, issuer: site.issuer, audience: site.audience },
      handoffUrl: site.handoffUrl,
      lowStockThreshold: site.lowStockThreshold,
    },
  });
  const server = setupServer(...mock.handlers);
  server.listen({ onUnhandledRequest: 'error' });
  return {
    name: 'mock',
    mock,
    ...client(base),
    async close() {
      mock.reset();
      server.close();
    },
  };
}

/** The real server with the commerce extension, seeded with the mock's catalog. */
export async function serverTarget(): Promise<Target> {
  const ext = commerceExtension({ heartbeatMs: 60_000 });
  const server = await startTestServer({
    sites: [
      {
        id: 'contract',
        publishableKey: site.publishableKey,
        adminKey: site.adminKey,
        allowedOrigins: ['https://shop.example'],
        customerToken: { alg: 'HS256', secret: site.secret },
        issuer: site.issuer,
        audience: site.audience,
        mergePolicy: 'sum',
        handoff: { url: site.handoffUrl, allowLinking: false },
        lowStockThreshold: site.lowStockThreshold,
      },
    ],
    extensions: [ext],
  });
  await ext.ready();
  const target: Target = {
    name: 'server',
    ...client(server.url),
    async close() {
      await ext.close();
      await server.close();
    },
  };
  // The mock seeds itself at start; the server gets the same catalog through its admin API.
  const admin = async (method: string, path: string, body: unknown) => {
    const res = await target.call(method, path, {
      body,
      headers: { 'x-omni-admin-key': site.adminKey },
    });
    if (res.status >= 300)
      throw new Error(`seeding ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const { products, stores, stock, orders } = seedCatalog;
  const at = Date.now() - 60_000;
  await admin('POST', '/v1/admin/products/import', { products });
  await admin('PUT', '/v1/admin/stores', { stores });
  await admin('PUT', '/v1/admin/stock', {
    updates: stock.map(([location, sku, qty]) => ({ location, sku, qty, updatedAt: at })),
  });
  for (const [i, skus] of orders.entries()) {
    await admin('POST', '/v1/orders', {
      orderId: `seed-${i + 1}`,
      channel: 'web',
      at: at - (orders.length - i) * 60_000,
      lines: skus.map((sku) => ({ sku, qty: 1 })),
    });
  }
  return target;
}
