import type { RequestHandler } from 'msw';
import { createMock, type MockOptions } from './mock.js';

export {
  createMock,
  type Fault,
  type MockOptions,
  type MockSite,
  type OmniMock,
  type OperationId,
} from './mock.js';
export { seedCatalog, type Catalog, type SeedProduct } from './seed.js';
export type { TokenKey } from './jwt.js';

/** msw request handlers that answer the omnikit `/v1` API in memory (`createMock(options).handlers`). */
export function createHandlers(options: MockOptions): RequestHandler[] {
  return createMock(options).handlers;
}
