// Validation of one feed row: every field checked, every problem named, nothing half-imported.
import { LIMITS, storable } from '@omnikit/protocol';
import type { FeedLimits, FeedResult, RejectedRow } from './feed.js';
import type { FeedProduct } from './types.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** A row before validation: whatever the feed said, as unknown values. */
export interface RawProduct {
  sku: unknown;
  groupId: unknown;
  title: unknown;
  description: unknown;
  price: unknown;
  currency: unknown;
  url: unknown;
  image: unknown;
  category: unknown;
  attributes: unknown;
}

/** Parses a feed, guessing the format from its first non-blank character when not given. */
export function validateRows(
  raws: {
    row: number;
    raw: Partial<RawProduct>;
    extra: string[];
    fromCsv: boolean;
    broken?: boolean;
  }[],
  limits: FeedLimits,
): FeedResult {
  const products: FeedProduct[] = [];
  const rejected: RejectedRow[] = [];
  const firstRow = new Map<string, number>();
  for (const { row, raw, extra, fromCsv, broken } of raws) {
    const reasons = [...extra];
    if (broken) {
      rejected.push({ row, reasons });
      continue;
    }
    if (fromCsv && typeof raw.attributes === 'string') {
      raw.attributes = parseAttributeText(raw.attributes, reasons);
    }
    const product = validateProduct(raw, limits, fromCsv, reasons);
    const sku = typeof raw.sku === 'string' ? raw.sku.trim() : undefined;
    if (product && reasons.length === 0) {
      const seen = firstRow.get(product.sku);
      if (seen !== undefined) {
        // The first row wins: later ones are reported, so the feed owner can fix the source.
        rejected.push({ row, sku: product.sku, reasons: [`duplicate sku (first at row ${seen})`] });
        continue;
      }
      firstRow.set(product.sku, row);
      products.push(product);
    } else {
      rejected.push(sku ? { row, sku, reasons } : { row, reasons });
    }
  }
  return { products, rejected };
}

function text(
  name: string,
  value: unknown,
  max: number,
  reasons: string[],
  required: boolean,
): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) reasons.push(`missing ${name}`);
    return null;
  }
  if (typeof value !== 'string') {
    reasons.push(`${name} must be a string`);
    return null;
  }
  if (!storable(value)) {
    reasons.push(`${name} must not contain NUL or an unpaired surrogate`);
    return null;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    if (required) reasons.push(`missing ${name}`);
    return null;
  }
  if (trimmed.length > max) {
    reasons.push(`${name} is longer than ${max} characters`);
    return null;
  }
  return trimmed;
}

// Widgets put these values into href/src attributes, so only http(s) and site-relative paths
// are accepted: a `javascript:` URL in a feed must never reach a page.
function link(name: string, value: unknown, max: number, reasons: string[]): string | null {
  const s = text(name, value, max, reasons, false);
  if (s === null) return null;
  if (s.startsWith('/') && !s.startsWith('//')) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return s;
  } catch {
    // reported below
  }
  reasons.push(`${name} must be an http(s) URL or a path starting with "/"`);
  return null;
}

function validateProduct(
  raw: Partial<RawProduct>,
  limits: FeedLimits,
  fromCsv: boolean,
  reasons: string[],
): FeedProduct | null {
  const sku = text('sku', raw.sku, 64, reasons, true);
  if (sku !== null && !LIMITS.skuPattern.test(sku)) {
    reasons.push('sku must be 1-64 letters, digits or . _ - / and start with a letter or digit');
  }
  const groupId = text('groupId', raw.groupId, 64, reasons, false);
  if (groupId !== null && !LIMITS.skuPattern.test(groupId)) {
    reasons.push('groupId must follow the sku rule');
  }
  const title = text('title', raw.title, limits.maxTitle, reasons, true);
  const description = text('description', raw.description, limits.maxDescription, reasons, false);
  const price = parsePrice(raw.price, limits, fromCsv, reasons);
  const currencyText = text('currency', raw.currency, 3, reasons, true);
  const currency = currencyText?.toUpperCase() ?? null;
  if (currency !== null && !CURRENCIES.has(currency)) {
    reasons.push(`currency "${currencyText}" is not an ISO 4217 code`);
  }
  const url = link('url', raw.url, limits.maxUrl, reasons);
  const image = link('image', raw.image, limits.maxUrl, reasons);
  const category = text('category', raw.category, limits.maxCategory, reasons, false);
  const attributes = parseAttributes(raw.attributes, limits, reasons);
  if (reasons.length > 0 || sku === null || title === null || price === null) return null;
  if (currency === null) return null;
  return {
    sku,
    groupId,
    title,
    description: description ?? '',
    price,
    currency,
    url,
    image,
    category,
    attributes,
  };
}

function parsePrice(
  value: unknown,
  limits: FeedLimits,
  fromCsv: boolean,
  reasons: string[],
): number | null {
  if (value === undefined || value === null || value === '') {
    reasons.push('missing price');
    return null;
  }
  // CSV has only text; JSON must say what it means with a number, so "12.50" is not guessed at.
  const n =
    fromCsv && typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)
      ? Number(value)
      : typeof value === 'number'
        ? value
        : NaN;
  if (!Number.isFinite(n)) {
    reasons.push('price must be a number of minor units');
    return null;
  }
  if (!Number.isInteger(n)) {
    reasons.push('price must be an integer number of minor units (e.g. 1299 for 12.99)');
    return null;
  }
  if (n < 0) {
    reasons.push('price must not be negative');
    return null;
  }
  if (n > limits.maxPrice) {
    reasons.push(`price is above ${limits.maxPrice} minor units`);
    return null;
  }
  return n;
}

function parseAttributes(
  value: unknown,
  limits: FeedLimits,
  reasons: string[],
): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  if (!isObject(value)) {
    reasons.push('attributes must be an object of strings');
    return {};
  }
  const out: Record<string, string> = {};
  const entries = Object.entries(value);
  if (entries.length > limits.maxAttributes) {
    reasons.push(`more than ${limits.maxAttributes} attributes`);
    return {};
  }
  for (const [rawKey, rawValue] of entries) {
    const key = rawKey.trim();
    if (key === '' || key.length > limits.maxAttributeKey) {
      reasons.push(`attribute name "${key}" must be 1-${limits.maxAttributeKey} characters`);
      continue;
    }
    if (!storable(key)) {
      reasons.push(`attribute name "${key}" must not contain NUL or an unpaired surrogate`);
      continue;
    }
    if (typeof rawValue === 'number' || typeof rawValue === 'boolean') {
      out[key] = String(rawValue);
      continue;
    }
    if (typeof rawValue !== 'string') {
      reasons.push(`attribute "${key}" must be a string`);
      continue;
    }
    if (!storable(rawValue)) {
      reasons.push(`attribute "${key}" must not contain NUL or an unpaired surrogate`);
      continue;
    }
    const v = rawValue.trim();
    if (v.length > limits.maxAttributeValue) {
      reasons.push(`attribute "${key}" is longer than ${limits.maxAttributeValue} characters`);
      continue;
    }
    if (v !== '') out[key] = v;
  }
  return out;
}

/** A CSV cell or JSON value that should hold the attributes object. */
export function parseAttributeText(value: unknown, problems: string[]): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    problems.push('attributes is not a JSON object');
    return undefined;
  }
}
