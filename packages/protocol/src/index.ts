export * from './errors.js';
export type * from './types.js';
export * from './limits.js';
export { isStrategy, STRATEGIES } from './recommendations.js';
export { lineKey } from './key.js';
export { FEED_COLUMNS, type FeedField } from './feed.js';
export * from './validate.js';
export * from './reducers.js';
export { mergeStates } from './merge.js';
