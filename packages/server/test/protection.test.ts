import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '@omnikit/protocol';
import {
  Api,
  customerToken,
  errorCode,
  m,
  origin,
  pokeData,
  SseReader,
  startTestServer,
  type Answer,
  type Device,
  type TestServer,
} from './helpers.js';

let server: TestServer;
let api: Api;
before(async () => {
  server = await startTestServer({
    // Client IPs come from X-Forwarded-For here, so each call can have its own address.
    trustProxy: true,
    rateLimits: {
      device: { capacity: 40, refillPerSecond: 0.01 },
      ip: { capacity: 30, refillPerSecond: 0.01 },
    },
  });
  let n = 0;
  // The proxy appends the address it saw (rightmost); a client-sent entry on the left is ignored.
  api = new Api(server.url, () => ({ 'x-forwarded-for': `10.0.0.1, 198.51.100.${++n % 250}` }));
});
after(() => server.close());

describe('CORS', () => {
  test('answers preflights for configured origins only', async () => {
    const ok = await fetch(`${server.url}/v1/sync/push`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    const allowed = ok.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['Authorization', 'Content-Type', 'X-Omni-Key', 'Last-Event-ID']) {
      assert.ok(allowed.includes(h), h);
    }
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /DELETE/);
    const denied = await fetch(`${server.url}/v1/sync/push`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  });

  test('allows the site’s origin on real calls and refuses other sites’ origins', async () => {
    const reg = await api.call<{ token: string; deviceId: string }>('POST', '/v1/devices', {
      body: {},
      headers: { 'x-omni-key': 'pk_shop', origin },
    });
    assert.equal(reg.status, 201);
    assert.equal(reg.headers.get('access-control-allow-origin'), origin);
    assert.match(reg.headers.get('vary') ?? '', /Origin/);
    const auth = { authorization: `Bearer ${reg.body.token}` };
    const pull = await api.call('GET', '/v1/sync/pull', { headers: { ...auth, origin } });
    assert.equal(pull.status, 200);
    assert.equal(pull.headers.get('access-control-allow-origin'), origin);
    // other.example is configured, but for another site: this site's token is refused there.
    const foreign = await api.call('GET', '/v1/sync/pull', {
      headers: { ...auth, origin: 'https://other.example' },
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    const evil = await api.call('POST', '/v1/devices', {
      body: {},
      headers: { 'x-omni-key': 'pk_shop', origin: 'https://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const noOrigin = await api.call('GET', '/v1/sync/pull', { headers: auth });
    assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
  });

  test('applies to the event stream', async (t) => {
    const d = await api.register();
    const stream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(d)}`,
      { origin },
    );
    t.after(() => stream.close());
    assert.equal(stream.response.headers.get('access-control-allow-origin'), origin);
    await stream.next();
  });
});

describe('bad input', () => {
  test('every malformed request is a 4xx with its code, never a 5xx', async () => {
    const d = await api.register();
    const push = (raw: string, headers: Record<string, string> = d.auth) => ({
      method: 'POST',
      path: '/v1/sync/push',
      raw,
      headers,
    });
    const bigString = 'x'.repeat(LIMITS.maxBodyBytes + 1);
    const tooMany = Array.from({ length: LIMITS.maxBatch + 1 }, (_, i) => m.add(i + 1, 'a'));
    const cases: {
      name: string;
      method: string;
      path: string;
      raw?: string;
      headers?: Record<string, string>;
      status: number;
      code: string;
    }[] = [
      { name: 'malformed JSON', ...push('{"deviceId":'), status: 400, code: 'invalid_argument' },
      { name: 'array body', ...push('[]'), status: 400, code: 'invalid_argument' },
      { name: 'null body', ...push('null'), status: 400, code: 'invalid_argument' },
      { name: 'empty body', ...push(''), status: 400, code: 'invalid_argument' },
      { name: 'number body', ...push('42'), status: 400, code: 'invalid_argument' },
      {
        name: 'mutations not an array',
        ...push(JSON.stringify({ deviceId: d.deviceId, mutations: {} })),
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'deviceId a number',
        ...push(JSON.stringify({ deviceId: 7, mutations: [] })),
        status: 400,
        code: 'invalid_argument',
      },
      ...[0, -1, 1.5, '3', null, 2 ** 60].map((seq) => ({
        name: `seq ${JSON.stringify(seq)}`,
        ...push(JSON.stringify({ deviceId: d.deviceId, mutations: [{ ...m.add(1, 'a'), seq }] })),
        status: 400,
        code: 'invalid_argument',
      })),
      {
        name: 'huge body',
        ...push(JSON.stringify({ deviceId: d.deviceId, mutations: [], pad: bigString })),
        status: 413,
        code: 'payload_too_large',
      },
      {
        name: 'too many mutations',
        ...push(JSON.stringify({ deviceId: d.deviceId, mutations: tooMany })),
        status: 413,
        code: 'payload_too_large',
      },
      { name: 'no token', ...push('{}', {}), status: 401, code: 'unauthorized' },
      {
        name: 'basic auth',
        ...push('{}', { authorization: 'Basic dXNlcjpwYXNz' }),
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'short token',
        ...push('{}', { authorization: 'Bearer abc' }),
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'unknown token',
        ...push('{}', { authorization: `Bearer ${'A'.repeat(43)}` }),
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'token with junk',
        ...push('{}', { authorization: `Bearer ${d.token}'; DROP TABLE devices; --` }),
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'device body a string',
        method: 'POST',
        path: '/v1/devices',
        raw: '"web"',
        headers: { 'x-omni-key': 'pk_shop' },
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'sibling body a string',
        method: 'POST',
        path: '/v1/devices/sibling',
        raw: '"web"',
        headers: d.auth,
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'identify token a number',
        method: 'POST',
        path: '/v1/identify',
        raw: '{"token":5}',
        headers: d.auth,
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'identify malformed JSON',
        method: 'POST',
        path: '/v1/identify',
        raw: '{token}',
        headers: d.auth,
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'identify huge token',
        method: 'POST',
        path: '/v1/identify',
        raw: JSON.stringify({ token: 'x'.repeat(9000) }),
        headers: d.auth,
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'claim code missing',
        method: 'POST',
        path: '/v1/handoff/claim',
        raw: '{}',
        headers: d.auth,
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'claim code an object',
        method: 'POST',
        path: '/v1/handoff/claim',
        raw: '{"code":{"$ne":null}}',
        headers: d.auth,
        status: 400,
        code: 'invalid_argument',
      },
      {
        name: 'stream ticket in a bad shape',
        method: 'GET',
        path: '/v1/sync/stream?ticket=../../etc',
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'unknown route',
        method: 'GET',
        path: '/v1/sync/everything',
        status: 404,
        code: 'not_found',
      },
    ];
    for (const c of cases) {
      const res = await api.call(c.method, c.path, {
        ...(c.raw === undefined ? {} : { raw: c.raw }),
        headers: c.headers ?? {},
      });
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`);
      assert.equal(errorCode(res), c.code, c.name);
    }
    const snap = await api.pull(d);
    assert.equal(snap.lastSeq, 0, 'nothing was applied');
  });

  test('bad mutations are consumed and reported one by one, with their code', async () => {
    const d = await api.register();
    const bad: unknown[] = [
      { seq: 1, name: 'cart.teleport', args: { sku: 'a' }, at: 1 },
      { seq: 2, name: 'cart.add', args: { sku: 'a', qty: -1000 }, at: 1 },
      { seq: 3, name: 'cart.add', args: { sku: 'a', qty: 1e9 }, at: 1 },
      { seq: 4, name: 'cart.setQuantity', args: { sku: 'a', qty: -1 }, at: 1 },
      { seq: 5, name: 'cart.add', args: { sku: 'a', qty: 1.5 }, at: 1 },
      { seq: 6, name: 'cart.add', args: { sku: 'a'.repeat(500), qty: 1 }, at: 1 },
      { seq: 7, name: 'cart.add', args: { sku: 'a', qty: '1' }, at: 1 },
      { seq: 8, name: 'prefs.set', args: { key: '__proto__', value: 'x' }, at: 1 },
      { seq: 9, name: 'cart.add', args: null, at: 1 },
      { seq: 10, name: 'viewed.add', args: { sku: 'a' }, at: -5 },
    ];
    const res = await api.push(d, bad);
    assert.equal(res.status, 200);
    assert.equal(res.body.lastSeq, 10);
    assert.equal(res.body.version, 0);
    for (const r of res.body.results) {
      assert.equal(r.status, 'rejected', `seq ${r.seq}`);
      if (r.status === 'rejected') assert.equal(r.error.code, 'invalid_argument');
    }
  });

  test('a chunked body over the limit is cut off at the limit (413)', async () => {
    const d = await api.register();
    const chunk = new TextEncoder().encode(' '.repeat(16_384));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Far more than the limit, with no Content-Length: the server must stop reading.
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${server.url}/v1/sync/push`, {
      method: 'POST',
      body,
      headers: { ...d.auth, 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(
      ((await res.json()) as { error: { code: string } }).error.code,
      'payload_too_large',
    );
  });

  test('per-device rate limit answers 429 with Retry-After', async () => {
    const d = await api.register();
    let res: Answer | undefined;
    for (let i = 0; i < 41; i++) res = await api.call('GET', '/v1/sync/pull', { headers: d.auth });
    assert.equal(res?.status, 429);
    assert.equal(errorCode(res as Answer), 'rate_limited');
    assert.ok(Number(res?.headers.get('retry-after')) >= 1);
    const other = await api.register();
    assert.equal((await api.call('GET', '/v1/sync/pull', { headers: other.auth })).status, 200);
  });
});

test('per-IP rate limit answers 429 with Retry-After, per address', async () => {
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const statuses: number[] = [];
  for (let i = 0; i < 31; i++) {
    statuses.push((await api.call('GET', '/v1/health', { headers: from('203.0.113.9') })).status);
  }
  assert.deepEqual(statuses.slice(0, 30), Array(30).fill(200));
  const limited = await api.call('GET', '/v1/health', { headers: from('203.0.113.9') });
  assert.equal(limited.status, 429);
  assert.equal(errorCode(limited), 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  // An address the client writes in front of the proxy's own entry changes nothing.
  const spoofed = await api.call('GET', '/v1/health', { headers: from('198.18.0.1, 203.0.113.9') });
  assert.equal(spoofed.status, 429);
  const other = await api.call('GET', '/v1/health', { headers: from('203.0.113.10') });
  assert.equal(other.status, 200);
});

describe('security matrix', () => {
  test('another device’s token never reads or writes this profile', async (t) => {
    const victim = await api.register();
    await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('victim-customer') },
      headers: victim.auth,
    });
    await api.pushOk(victim, [m.add(1, 'victim-secret-sku'), m.pref(2, 'size', 'victim-size')]);
    const victimStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(victim)}`,
    );
    t.after(() => victimStream.close());
    await victimStream.next();
    const before = await api.pull(victim);
    const secrets = [
      victim.token,
      victim.deviceId,
      before.profileId,
      'victim-secret-sku',
      'victim-size',
      'victim-customer',
    ];
    const victimCode = await api.call<{ code: string }>('POST', '/v1/handoff', {
      headers: victim.auth,
    });

    // Each row: one endpoint called with the attacker's token and the victim's ids.
    type Row = { name: string; call: (a: Device) => Promise<Answer>; status: number[] };
    const rows: Row[] = [
      {
        name: 'push naming the victim device',
        call: (a) =>
          api.call('POST', '/v1/sync/push', {
            body: { deviceId: victim.deviceId, mutations: [m.add(99, 'evil')] },
            headers: a.auth,
          }),
        status: [403],
      },
      {
        name: 'pull with victim ids in the query',
        call: (a) =>
          api.call(
            'GET',
            `/v1/sync/pull?deviceId=${victim.deviceId}&profileId=${before.profileId}`,
            {
              headers: a.auth,
            },
          ),
        status: [200],
      },
      {
        name: 'pull with the victim device id as token',
        call: () =>
          api.call('GET', '/v1/sync/pull', {
            headers: { authorization: `Bearer ${victim.deviceId}` },
          }),
        status: [401],
      },
      {
        name: 'stream ticket with victim ids',
        call: (a) =>
          api.call('POST', '/v1/sync/stream-ticket', {
            body: { deviceId: victim.deviceId },
            headers: a.auth,
          }),
        status: [201],
      },
      {
        name: 'stream with the victim device id as ticket',
        call: () => api.call('GET', `/v1/sync/stream?ticket=${victim.deviceId.replace(/-/g, '')}`),
        status: [401],
      },
      {
        name: 'identify with a token for another site',
        call: async (a) =>
          api.call('POST', '/v1/identify', {
            body: { token: await customerToken('victim-customer', { audience: 'omnikit:other' }) },
            headers: a.auth,
          }),
        status: [401],
      },
      {
        name: 'logout with victim ids',
        call: (a) =>
          api.call('POST', '/v1/logout', { body: { deviceId: victim.deviceId }, headers: a.auth }),
        status: [200],
      },
      {
        name: 'forget with victim ids',
        call: (a) =>
          api.call('DELETE', `/v1/profile?profileId=${before.profileId}`, { headers: a.auth }),
        status: [204],
      },
      {
        name: 'handoff with victim ids',
        call: (a) =>
          api.call('POST', '/v1/handoff', {
            body: { profileId: before.profileId },
            headers: a.auth,
          }),
        status: [201],
      },
      {
        name: 'claim a guessed code',
        call: (a) =>
          api.call('POST', '/v1/handoff/claim', {
            body: { code: victimCode.body.code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA' },
            headers: a.auth,
          }),
        status: [404],
      },
      {
        name: 'sibling with victim ids',
        call: (a) =>
          api.call('POST', '/v1/devices/sibling', {
            body: { deviceId: victim.deviceId, profileId: before.profileId },
            headers: a.auth,
          }),
        status: [201],
      },
      {
        name: 'claim with the victim profile id as code',
        call: (a) =>
          api.call('POST', '/v1/handoff/claim', {
            body: { code: before.profileId },
            headers: a.auth,
          }),
        status: [404],
      },
      {
        name: 'a device of another site pushing for the victim',
        call: async () => {
          const outsider = await api.register('pk_other');
          return api.call('POST', '/v1/sync/push', {
            body: { deviceId: victim.deviceId, mutations: [m.add(1, 'evil')] },
            headers: outsider.auth,
          });
        },
        status: [403],
      },
    ];
    for (const row of rows) {
      const attacker = await api.register();
      const res = await row.call(attacker);
      assert.ok(row.status.includes(res.status), `${row.name}: ${res.status}`);
      const text = JSON.stringify(res.body);
      for (const s of secrets) assert.ok(!text.includes(s), `${row.name} leaked ${s}`);
    }
    const afterwards = await api.pull(victim);
    assert.deepEqual(afterwards, before, 'the victim profile is untouched');
    // The victim's stream heard nothing from any of it.
    assert.equal(victimStream.events.length, 1);
    assert.ok(pokeData(victimStream.events[0]!).snapshot?.state.cart.lines.length === 1);
  });
});
