// Shared by the benches: servers on each reachable database, a tiny client, percentiles.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import pg from 'pg';
import { SignJWT } from 'jose';
import {
  jsonLogger,
  silentLogger,
  startServer,
  type RunningServer,
  type SiteConfig,
} from '@omnikit/server';

export const secret = 'bench-secret-that-is-long-enough-for-hs256';
export const sites: SiteConfig[] = [
  {
    id: 'bench',
    publishableKey: 'pk_bench',
    allowedOrigins: ['https://bench.example'],
    customerToken: { alg: 'HS256', secret },
    issuer: 'bench',
    audience: 'bench',
  },
];
/** Benches are not about the limiter: lift it out of the way. */
const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };

export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL answers at `postgresUrl`. */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export interface BenchServer extends RunningServer {
  label: string;
}

/** How a bench server differs from the default bench setup. */
export interface BenchServerOptions {
  /** Keep the production rate limits (fairness benches) instead of lifting them. */
  realLimits?: boolean;
  /** Take client addresses from X-Forwarded-For (to play many shoppers from loopback). */
  trustProxy?: boolean;
  /** Log every request as JSON lines on stdout, as a production server does (child only). */
  log?: boolean;
  /** Answer refusals at once instead of after the production delay (to measure their cost). */
  refuseAtOnce?: boolean;
  /** With `realLimits`, lift the push budget (to measure refusals by the push line). */
  liftPushBudget?: boolean;
}

/** A server on in-memory PGlite, or on PostgreSQL in a throwaway schema. */
export async function benchServer(
  kind: 'pglite' | 'postgres',
  options: BenchServerOptions = {},
): Promise<BenchServer> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const server = await startServer({
    sites,
    logger: options.log ? jsonLogger : silentLogger,
    trustProxy: options.trustProxy === true,
    gc: false,
    rateLimits: options.realLimits
      ? { ...(options.liftPushBudget ? { push: unlimited } : {}) }
      : { device: unlimited, push: unlimited, ip: unlimited, register: unlimited },
    ...(options.refuseAtOnce ? { refusalDelayMs: 0 } : {}),
    database: kind === 'postgres' ? { url: postgresUrl, schema, poolSize: 10 } : {},
  });
  return {
    ...server,
    label: kind,
    close: async () => {
      await server.close();
      if (kind !== 'postgres') return;
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/**
 * The same server in a child process: `{ url, close }`. With `log`, its request log (stdout) goes
 * to a file, as a production server's would go to its log shipper, and never through this process.
 */
export async function childServer(
  kind: 'pglite' | 'postgres',
  options: BenchServerOptions = {},
): Promise<{ url: string; label: string; pid: number; close(): Promise<void> }> {
  const logFile = options.log
    ? join(tmpdir(), `omnikit-bench-${randomBytes(4).toString('hex')}.log`)
    : undefined;
  const logFd = logFile === undefined ? undefined : openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      fileURLToPath(new URL('serve.ts', import.meta.url)),
      kind,
      ...(options.realLimits ? ['--real-limits'] : []),
      ...(options.trustProxy ? ['--trust-proxy'] : []),
      ...(options.log ? ['--log'] : []),
      ...(options.refuseAtOnce ? ['--refuse-at-once'] : []),
      ...(options.liftPushBudget ? ['--lift-push-budget'] : []),
    ],
    // With `log`, the url line comes on fd 3.
    {
      // With `log`, both log streams (requests on stdout, warnings on stderr) go to the file.
      stdio: logFd === undefined ? ['ignore', 'pipe', 'inherit'] : ['ignore', logFd, logFd, 'pipe'],
    },
  );
  if (logFd !== undefined) closeSync(logFd);
  const urlOut = (logFd === undefined ? child.stdout : child.stdio[3]) as Readable;
  urlOut.setEncoding('utf8');
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    urlOut.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    url,
    label: kind,
    pid: child.pid!,
    close: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
      if (logFile !== undefined) rmSync(logFile, { force: true });
    },
  };
}

export interface BenchDevice {
  deviceId: string;
  token: string;
  profileId: string;
  headers: Record<string, string>;
}

/** `POST /v1/devices` as a shopper behind `address` (the bench server trusts X-Forwarded-For). */
export const registerFrom = (base: string, address: string): Promise<Response> =>
  fetch(`${base}/v1/devices`, {
    method: 'POST',
    headers: {
      'x-omni-key': 'pk_bench',
      'content-type': 'application/json',
      'x-forwarded-for': address,
    },
    body: '{}',
  });

export async function register(base: string): Promise<BenchDevice> {
  const res = await fetch(`${base}/v1/devices`, {
    method: 'POST',
    headers: { 'x-omni-key': 'pk_bench', 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json()) as Omit<BenchDevice, 'headers'>;
  return {
    ...body,
    headers: { authorization: `Bearer ${body.token}`, 'content-type': 'application/json' },
  };
}

export async function identify(base: string, device: BenchDevice, sub: string): Promise<void> {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer('bench')
    .setAudience('bench')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
  const res = await fetch(`${base}/v1/identify`, {
    method: 'POST',
    headers: device.headers,
    body: JSON.stringify({ token }),
  });
  if (res.status !== 200) throw new Error(`identify: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

let clock = 1_700_000_000_000;
/** A realistic batch: adds, quantity changes and views over a small catalog. */
/** A tab id as the SDK makes one: each change's id is it and a counter, as the SDK sends them. */
const tab = Math.random().toString(36).slice(2, 12).padEnd(10, '0');

export function batch(firstSeq: number, size: number) {
  return Array.from({ length: size }, (_, i) => {
    const seq = firstSeq + i;
    const sku = `sku-${seq % 37}`;
    const at = ++clock;
    const id = tab + seq;
    if (seq % 3 === 0) return { seq, name: 'viewed.add', args: { sku }, at, id };
    if (seq % 5 === 0)
      return { seq, name: 'cart.setQuantity', args: { sku, qty: 1 + (seq % 4) }, at, id };
    return { seq, name: 'cart.add', args: { sku, qty: 1 }, at, id };
  });
}

export async function push(base: string, device: BenchDevice, mutations: unknown[]): Promise<void> {
  const res = await fetch(`${base}/v1/sync/push`, {
    method: 'POST',
    headers: device.headers,
    body: JSON.stringify({ deviceId: device.deviceId, mutations }),
  });
  if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);
