// What the mock's browser tests share: one mock behind msw's service worker, started before a
// file's tests and unregistered after them, a device and its pushes.
import { setupWorker } from 'msw/browser';
import { createMock } from '@omnikit/mock';
import type { RegisterDeviceResponse } from '@omnikit/protocol';

export const endpoint = 'https://api.omnikit.test';
export const mock = createMock({ endpoint });
const worker = setupWorker(...mock.handlers);

/** Starts msw's worker before the file's tests and removes it after them. */
export function useWorker(): void {
  before(() => worker.start({ quiet: true, onUnhandledRequest: 'error' }));
  afterEach(() => mock.clearFaults());
  // stop() leaves msw's service worker in control of the next test pages of this origin, and
  // WebKit streams no EventSource through it: later files would never get a poke.
  after(async () => {
    mock.reset();
    worker.stop();
    const registrations = await navigator.serviceWorker.getRegistrations();
    await Promise.all(registrations.map((r) => r.unregister()));
  });
}

export type Device = RegisterDeviceResponse & { auth: Record<string, string> };

export async function register(): Promise<Device> {
  const res = await fetch(`${endpoint}/v1/devices`, {
    method: 'POST',
    headers: { 'x-omni-key': mock.site.publishableKey },
  });
  const body = (await res.json()) as RegisterDeviceResponse;
  return { ...body, auth: { authorization: `Bearer ${body.token}` } };
}

export const push = (d: Device, seq: number) =>
  fetch(`${endpoint}/v1/sync/push`, {
    method: 'POST',
    headers: { ...d.auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      deviceId: d.deviceId,
      mutations: [{ seq, name: 'cart.add', args: { sku: '22423', qty: 1 }, at: Date.now() }],
    }),
  });
