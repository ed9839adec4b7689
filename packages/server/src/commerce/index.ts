// The pure commerce modules (core/ and recs/): no storage, no HTTP. Scripts and benches import
// them from here.
export * from './core/types.js';
export * from './core/feed.js';
export * from './core/geo.js';
export * from './core/stock.js';
export * from './core/orders.js';
export * from './core/demo-data.js';
export * from './recs/index.js';
