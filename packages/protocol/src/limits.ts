/**
 * Every limit the protocol enforces, in one place. The server rejects a mutation that would
 * break one, and the SDK applies the same checks optimistically, so both agree.
 */
export const LIMITS = Object.freeze({
  /** Distinct lines (sku + options) in a cart. */
  maxLines: 100,
  /** Quantity of one line; `cart.add` clamps to it, `cart.setQuantity` rejects above it. */
  maxQtyPerLine: 999,
  maxSkuLength: 64,
  skuPattern: /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/,
  /** Variant options on one line (`{ size: 'M', color: 'red' }`). */
  maxOptions: 8,
  maxOptionKeyLength: 32,
  maxOptionValueLength: 64,
  /** Recently viewed items kept per profile. */
  maxViewed: 50,
  /** Preferences per profile; keys start with a letter (so never `__proto__`). */
  maxPrefs: 32,
  prefKeyPattern: /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/,
  maxPrefValueLength: 256,
  maxStoreIdLength: 64,
  storeIdPattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  /** Mutations in one push. */
  maxBatch: 100,
  /** Largest request body the server reads (64 KiB). */
  maxBodyBytes: 65536,
  /** Recommendations in one answer (`limit`), and how many when it is not given. */
  maxRecommendations: 100,
  defaultRecommendations: 10,
  /** Skus one catalog read names (`GET /v1/products?skus=`, `exclude=`). */
  maxSkusPerRequest: 100,
  /** Skus one live stock stream watches (`GET /v1/stock/stream?skus=`). */
  maxStreamSkus: 50,
} as const);
