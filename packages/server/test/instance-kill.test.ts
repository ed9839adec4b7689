// Two instances on one PostgreSQL; the one handling a push is SIGKILLed in the middle of it
// (right after its commit, or a random moment after the request left), and the device retries
// on the other instance as it would behind a load balancer. No acknowledged mutation may be lost
// or applied twice, and the profile's other device, streaming from the surviving instance,
// must hear of the new version within 1 s of the acknowledgement.
// Quick by default (a handful of kills); INSTANCE_KILL=full for 100. PostgreSQL only: an
// embedded PGlite database belongs to one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  reduce,
  type Mutation,
  type PushResponse,
  type RegisterDeviceResponse,
  type Snapshot,
} from '@omnikit/protocol';
import { startChild, type ChildServer } from './child.js';
import {
  adminQuery,
  customerToken,
  databaseUrl,
  dropSchema,
  freshSchema,
  pokeData,
  SseReader,
  startTestServer,
} from './helpers.js';
import { spec } from './mutation-specs.js';

const full = process.env.INSTANCE_KILL === 'full';
const KILLS = Number(process.env.INSTANCE_KILL_KILLS ?? (full ? 100 : 4));
const seed = Number(process.env.INSTANCE_KILL_SEED ?? 20261202);

class NetworkError extends Error {}

async function call<T>(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  try {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  } catch (err) {
    throw new NetworkError((err as Error).message);
  }
}

if (databaseUrl) {
  test('instance-kill: a push whose instance dies is neither lost nor doubled, and pokes arrive', async (t) => {
    const schema = freshSchema()!;
    await (await startTestServer({ schema })).close();
    const db = `postgres:${schema}`;
    const env = { CHILD_REPORT_COMMITS: '1' };
    let victim: ChildServer = await startChild(db, env);
    const survivor = await startChild(db);
    const streams: SseReader[] = [];
    t.after(async () => {
      for (const s of streams) s.close();
      await victim.stop('kill');
      await survivor.stop('graceful');
      await dropSchema(schema);
    });

    const device = async () => {
      const reg = await call<RegisterDeviceResponse>(
        survivor.url,
        'POST',
        '/v1/devices',
        {
          'x-omni-key': 'pk_shop',
        },
        { channel: 'web' },
      );
      const headers = { authorization: `Bearer ${reg.body.token}` };
      const token = await customerToken(`instance-kill-${seed}`);
      assert.equal(
        (await call(survivor.url, 'POST', '/v1/identify', headers, { token })).status,
        200,
      );
      return { id: reg.body.deviceId, headers };
    };
    const pusher = await device();
    const watcher = await device();
    const ticket = await call<{ ticket: string }>(
      survivor.url,
      'POST',
      '/v1/sync/stream-ticket',
      watcher.headers,
    );
    const stream = await SseReader.open(
      `${survivor.url}/v1/sync/stream?ticket=${ticket.body.ticket}`,
    );
    streams.push(stream);
    await stream.next();

    const batches = fc.sample(fc.array(spec, { minLength: 1, maxLength: 5 }), {
      seed,
      numRuns: KILLS,
    });
    const delays = fc.sample(fc.integer({ min: 0, max: 4 }), { seed: seed + 1, numRuns: KILLS });
    const log: Mutation[] = [];
    let seq = 0;
    let acked = 0;
    let version = 0;
    let clock = 1_700_000_000_000;
    const totals = {
      kills: 0,
      lost: 0,
      duplicated: 0,
      diverged: 0,
      latePokes: 0,
      committedBeforeKill: 0,
    };

    for (let i = 0; i < KILLS; i++) {
      const batch = batches[i]!.map((s) => ({ seq: ++seq, at: ++clock, ...s }) as Mutation);
      // Half the kills land right after the commit (before the answer), half a few ms after
      // the request left (before, inside or after the transaction).
      const onCommit = i % 2 === 0;
      const dying = victim;
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        dying.proc.kill('SIGKILL');
      };
      if (onCommit) {
        dying.onLine((line) => {
          if (line.committed === pusher.id) {
            totals.committedBeforeKill++;
            kill();
          }
        });
      }
      const sent = call<PushResponse>(dying.url, 'POST', '/v1/sync/push', pusher.headers, {
        deviceId: pusher.id,
        mutations: batch,
      });
      if (!onCommit) setTimeout(kill, delays[i]!);
      let answer: PushResponse | undefined;
      try {
        const res = await sent;
        if (res.status === 200) answer = res.body;
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
      }
      kill();
      await dying.stop('kill');
      totals.kills++;
      // The device retries on the other instance, as behind a load balancer.
      if (!answer) {
        const res = await call<PushResponse>(
          survivor.url,
          'POST',
          '/v1/sync/push',
          pusher.headers,
          {
            deviceId: pusher.id,
            mutations: batch,
          },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        answer = res.body;
      }
      if (answer.lastSeq < acked) totals.lost += acked - answer.lastSeq;
      log.push(...batch.filter((m) => m.seq > acked && m.seq <= answer.lastSeq));
      acked = answer.lastSeq;
      // The other device hears of the new version within a second of the acknowledgement.
      if (answer.version > version) {
        const target = answer.version;
        try {
          await stream.next((e) => e.event === 'poke' && pokeData(e).version >= target, 1000);
        } catch {
          totals.latePokes++;
        }
        version = answer.version;
      }
      const seen = await call<Snapshot>(survivor.url, 'GET', '/v1/sync/pull', watcher.headers);
      if (!isDeepStrictEqual(seen.body.state, reduce(log))) totals.diverged++;
      victim = await startChild(db, env);
    }
    const mine = await call<Snapshot>(survivor.url, 'GET', '/v1/sync/pull', pusher.headers);
    assert.equal(mine.body.lastSeq, seq);
    const [dup] = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT device_id, at FROM "${schema}".events
       GROUP BY device_id, at HAVING count(*) > 1) AS t`,
    );
    totals.duplicated = dup!.n;
    // eslint-disable-next-line no-console
    console.log(
      `instance-kill: kills=${totals.kills} committed_before_kill=${totals.committedBeforeKill} ` +
        `lost=${totals.lost} duplicated=${totals.duplicated} diverged=${totals.diverged} ` +
        `late_pokes=${totals.latePokes} seed=${seed}`,
    );
    assert.equal(totals.lost, 0, 'acknowledged mutations lost');
    assert.equal(totals.duplicated, 0, 'mutations applied twice');
    assert.equal(totals.diverged, 0, 'the other device read a state other than reduce(log)');
    assert.equal(totals.latePokes, 0, 'pokes later than 1 s');
  });
} else {
  // eslint-disable-next-line no-console
  console.log('instance-kill: not run: DATABASE_URL is unset (two instances need PostgreSQL)');
}
