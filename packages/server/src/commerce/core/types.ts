// Storage-agnostic commerce records. The server's tables, the admin API and the demo data all
// map onto these shapes, so the pure modules beside this file never depend on a database. What
// goes on the wire is typed once, in @omnikit/protocol.
import type { Product, StoreInfo } from '@omnikit/protocol';

/** A WGS 84 position in decimal degrees. */
export interface LatLng {
  lat: number;
  lng: number;
}

/**
 * One sellable item as a product feed gives it: the wire `Product` before the catalog stamps
 * `updatedAt` on it.
 */
export type FeedProduct = Omit<Product, 'updatedAt'>;

/** A physical store, stored and served as the protocol's `StoreInfo`. */
export type Store = StoreInfo;

/** Where stock is held: a store id, or the online warehouse. */
export type StockLocation = string;
/** The location id of online (ship-to-home) stock. */
export const ONLINE = 'online';

/** The stock of one sku at one location, as last reported by the POS/ERP. */
export interface InventoryRow {
  location: StockLocation;
  sku: string;
  /** Units on hand, a non-negative integer. */
  qty: number;
  /** When the reporting system counted this quantity (ms since epoch), not when we received it. */
  updatedAt: number;
}

/** One line of an order. */
export interface OrderLine {
  sku: string;
  qty: number;
}

/** A purchase as `POST /v1/orders` takes it (POS or online). */
export interface Order {
  orderId: string;
  customerId: string | null;
  storeId: string | null;
  channel: 'store' | 'web' | 'app';
  at: number;
  lines: OrderLine[];
}
