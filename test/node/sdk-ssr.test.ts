// @omnikit/sdk during server-side rendering: importing and using it in Node (no window, no IndexedDB) must not
// throw, touch the network or schedule work. Run by node:test (test/run-node-tests.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';

test('importing and reading the SDK during SSR has no side effects', async () => {
  const calls: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    calls.push(String(input));
    throw new Error('no network during SSR');
  }) as typeof fetch;
  try {
    const { createClient } = await import('@omnikit/sdk');
    assert.equal(typeof (globalThis as { window?: unknown }).window, 'undefined');
    const client = createClient({ endpoint: 'https://omni.example', publishableKey: 'pk' });
    assert.deepEqual(client.cart.lines, []);
    assert.equal(client.cart.count, 0);
    assert.equal(client.identity.customerId, null);
    assert.equal(client.status.state, 'offline');
    const stop = client.subscribe(
      (s) => s.cart.count,
      () => {},
    );
    stop();
    await client.start();
    assert.deepEqual(calls, []);
    await client.close();
  } finally {
    globalThis.fetch = realFetch;
  }
});
