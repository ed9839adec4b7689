// The commerce core: pure, storage-agnostic modules that the HTTP routes compose.
export * from './types.js';
export * from './feed.js';
export * from './geo.js';
export * from './stock.js';
export * from './orders.js';
export * from './demo-data.js';
export * from './recs/index.js';
