// The core: identity, cart, recently viewed, sync, tabs, storage fallback, durable changes.
// Opt-in features are separate entries: `@omnikit/sdk/catalog`, `/ga4`, `/page-product`,
// `/handoff`; each tree-shakes away when it is not imported.
export { createClient } from './client.js';
export type {
  AddOptions,
  CartState,
  ClientEvent,
  ClientEventMap,
  ClientOptions,
  ClientState,
  ConnectionOptions,
  Consent,
  HandoffOutcome,
  IdentityState,
  LineView,
  Logger,
  OmniClient,
  RecommendationQuery,
  Status,
  SyncErrorDetail,
  SyncOptions,
  SyncState,
} from './types.js';
export { browserNetwork, type Network } from './http.js';
export {
  memoryTabs,
  type TabMessage,
  type TabTransport,
  type TabTransportFactory,
} from './tabs.js';
export { OmniError, ErrorCode, type ErrorBody } from '@omnikit/protocol';
export type {
  Availability,
  AvailabilityBand,
  CartLine,
  HandoffResponse,
  MergePolicy,
  MergeSummary,
  Mutation,
  OpeningHours,
  Product,
  ProductCard,
  Reason,
  ReasonCode,
  Recommendation,
  StockAnswer,
  StoreAvailability,
  StoreInfo,
  Strategy,
  ViewedItem,
} from '@omnikit/protocol';
export { DEV_MODE } from './dev.js';
