// Every limit the protocol enforces, each a constant of its own and all of them in LIMITS: a
// minifier inlines or renames a constant, where a property read of LIMITS stays, and a bundle
// that imports a few constants (the SDK core reads maxBatch and maxBodyBytes) leaves the LIMITS
// object out.
/** Distinct lines (sku + options) in a cart. */
export const maxLines = 100;
/** Quantity of one line; `cart.add` clamps to it, `cart.setQuantity` rejects above it. */
export const maxQtyPerLine = 999;
/** Characters in a sku. */
export const maxSkuLength = 64;
/** What a sku looks like. */
export const skuPattern = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;
/** Variant options on one line (`{ size: 'M', color: 'red' }`). */
export const maxOptions = 8;
/** Characters in an option's name. */
export const maxOptionKeyLength = 32;
/** Characters in an option's value. */
export const maxOptionValueLength = 64;
/** Recently viewed items kept per profile. */
export const maxViewed = 50;
/** Preferences per profile; keys start with a letter (so never `__proto__`). */
export const maxPrefs = 32;
/** What a preference's key looks like. */
export const prefKeyPattern = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
/** Characters in a preference's value. */
export const maxPrefValueLength = 256;
/** Characters in a store id. */
export const maxStoreIdLength = 64;
/** What a store id looks like. */
export const storeIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Mutations in one push. */
export const maxBatch = 100;
/** Largest request body the server reads (64 KiB). */
export const maxBodyBytes = 65536;
/** Characters in a mutation's id. */
export const maxMutationIdLength = 64;
/** What a mutation's id looks like (a UUID, or the SDK's tab id and counter). */
export const mutationIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
/**
 * Ids of applied mutations a profile remembers (its latest), so none is applied twice: more
 * than a push carries (`maxBatch`), so one push never forgets its own.
 */
export const maxRecentIds = 128;
/** Recommendations in one answer (`limit`). */
export const maxRecommendations = 100;
/** Recommendations in an answer when `limit` is not given. */
export const defaultRecommendations = 10;
/** Skus one catalog read names (`GET /v1/products?skus=`, `exclude=`). */
export const maxSkusPerRequest = 100;
/** Skus one live stock stream watches (`GET /v1/stock/stream?skus=`). */
export const maxStreamSkus = 50;

/**
 * Every limit the protocol enforces, in one place (as constants of their own above).
 * The server rejects a mutation that would break one, and the SDK applies the same checks
 * optimistically, so both agree.
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
  /** Characters in a mutation's id, and what one looks like. */
  maxMutationIdLength,
  mutationIdPattern,
  /** Ids of applied mutations a profile remembers (its latest), so none is applied twice. */
  maxRecentIds,
  /** Recommendations in one answer (`limit`), and how many when it is not given. */
  maxRecommendations,
  defaultRecommendations,
  /** Skus one catalog read names (`GET /v1/products?skus=`, `exclude=`). */
  maxSkusPerRequest,
  /** Skus one live stock stream watches (`GET /v1/stock/stream?skus=`). */
  maxStreamSkus,
} as const);
