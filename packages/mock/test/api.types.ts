// Type tests of the public API: compiled by `npm run typecheck`, never run. Each
// `@ts-expect-error` line must stay an error; each `expectType` must stay exact.
import type { RequestHandler } from 'msw';
import type { Snapshot } from '@omnikit/protocol';
import type { createHandlers, seedCatalog } from '@omnikit/mock';
import { createMock, type Catalog, type OmniMock, type OperationId } from '@omnikit/mock';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_ok: T) => {};

export function apiTypes(): void {
  const mock = createMock({ endpoint: 'https://api.shop.test' });
  expectType<Equal<typeof mock, OmniMock>>(true);
  expectType<Equal<typeof mock.handlers, RequestHandler[]>>(true);
  expectType<Equal<ReturnType<typeof createHandlers>, RequestHandler[]>>(true);
  expectType<Equal<ReturnType<OmniMock['snapshot']>, Snapshot | undefined>>(true);
  expectType<Equal<typeof seedCatalog, Catalog>>(true);

  // @ts-expect-error the endpoint is required
  createMock({});
  // @ts-expect-error merge policies are the protocol's
  createMock({ endpoint: 'x', site: { mergePolicy: 'union' } });
  createMock({ endpoint: 'x', site: { customerToken: null }, catalog: { orders: [] } });
  createMock({ endpoint: 'x', eventStreams: 'long-poll' });
  // @ts-expect-error event streams are answered live or in long-poll style
  createMock({ endpoint: 'x', eventStreams: 'poll' });

  mock.fail('push', { status: 429, retryAfter: 2, times: 1 });
  mock.fail('*', { status: 500 });
  // @ts-expect-error only documented statuses are injected
  mock.fail('push', { status: 418 });
  // @ts-expect-error operations are the OpenAPI operationIds
  mock.fail('pushMutations', { status: 500 });
  const op: OperationId = 'getRecommendations';
  mock.fail(op, { status: 500 });
  mock.latency(100);
  mock.offline();
  mock.offline(false);
  // @ts-expect-error quantities are numbers
  mock.setStock('online', 'SKU', '3');
}
