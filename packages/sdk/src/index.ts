export {
  createClient,
  type AddOptions,
  type CartState,
  type ClientEventMap,
  type ClientOptions,
  type ClientState,
  type Consent,
  type IdentityState,
  type LineView,
  type Logger,
  type OmniClient,
  type RecommendationQuery,
  type Status,
  type StockNear,
  type StockQuery,
  type SyncErrorDetail,
  type SyncOptions,
  type SyncState,
} from './client.js';
export { browserNetwork, type Network } from './http.js';
export { memoryTabs, type TabTransport, type TabTransportFactory } from './tabs.js';
export { OmniError, ErrorCode, type ErrorBody } from '@omnikit/protocol';
export type {
  Availability,
  AvailabilityBand,
  CartLine,
  HandoffResponse,
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
export { readPageProduct, type PageProduct } from './page-product.js';
export { DEV_MODE } from './dev.js';
