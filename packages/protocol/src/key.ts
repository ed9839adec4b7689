/**
 * The canonical key of a cart line: the sku alone, or the sku, `?`, then the options sorted by
 * key and URI-encoded (`tee-1?color=red&size=M`). Skus never contain `?`, so keys never collide.
 */
export function lineKey(sku: string, options?: Readonly<Record<string, string>>): string {
  const keys = options ? Object.keys(options).sort() : [];
  const pair = (k: string) => `${encodeURIComponent(k)}=${encodeURIComponent(options?.[k] ?? '')}`;
  return keys.length ? `${sku}?${keys.map(pair).join('&')}` : sku;
}
