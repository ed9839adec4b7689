// Each limit is also a constant of its own, exported as well: a minifier inlines or renames a
// constant, where a property read of LIMITS stays, and a bundle that imports a few constants
// (the SDK core reads maxBatch and maxBodyBytes) leaves the LIMITS object out.
export const maxLines = 100;
export const maxQtyPerLine = 999;
export const maxSkuLength = 64;
export const skuPattern = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;
export const maxOptions = 8;
export const maxOptionKeyLength = 32;
export const maxOptionValueLength = 64;
export const maxViewed = 50;
export const maxPrefs = 32;
export const prefKeyPattern = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
export const maxPrefValueLength = 256;
export const maxStoreIdLength = 64;
export const storeIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const maxBatch = 100;
export const maxBodyBytes = 65536;
export const maxRecommendations = 100;
export const defaultRecommendations = 10;
export const maxSkusPerRequest = 100;
export const maxStreamSkus = 50;

/**
 * Every limit the protocol enforces, in one place. The server rejects a mutation that would
 * break one, and the SDK applies the same checks optimistically, so both agree.
 */
export const LIMITS = Object.freeze({
  /** Distinct lines (sku + options) in a cart. */
  maxLines,
  /** Quantity of one line; `cart.add` clamps to it, `cart.setQuantity` rejects above it. */
  maxQtyPerLine,
  maxSkuLength,
  skuPattern,
  /** Variant options on one line (`{ size: 'M', color: 'red' }`). */
  maxOptions,
  maxOptionKeyLength,
  maxOptionValueLength,
  /** Recently viewed items kept per profile. */
  maxViewed,
  /** Preferences per profile; keys start with a letter (so never `__proto__`). */
  maxPrefs,
  prefKeyPattern,
  maxPrefValueLength,
  maxStoreIdLength,
  storeIdPattern,
  /** Mutations in one push. */
  maxBatch,
  /** Largest request body the server reads (64 KiB). */
  maxBodyBytes,
  /** Recommendations in one answer (`limit`), and how many when it is not given. */
  maxRecommendations,
  defaultRecommendations,
  /** Skus one catalog read names (`GET /v1/products?skus=`, `exclude=`). */
  maxSkusPerRequest,
  /** Skus one live stock stream watches (`GET /v1/stock/stream?skus=`). */
  maxStreamSkus,
} as const);
