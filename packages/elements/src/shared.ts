// Pieces every element shares: the default theme, safe URLs, product cards and event helpers.
import { css, html, nothing, type TemplateResult } from 'lit';
import type { ProductCard } from '@omnikit/sdk';
import type { LocalizeController } from './localize.js';

/**
 * The default theme. Every colour and size is a `--omni-*` custom property with a default, so a
 * site restyles all elements from one rule (`omni-cart { --omni-color-accent: ... }` or `:root`).
 * Default colours keep a 4.5:1 contrast on the default surface.
 */
export const base = css`
  :host {
    --_accent: var(--omni-color-accent, #1a56db);
    --_on-accent: var(--omni-color-on-accent, #fff);
    --_surface: var(--omni-color-surface, #fff);
    --_text: var(--omni-color-text, #1f2937);
    --_muted: var(--omni-color-muted, #4b5563);
    --_border: var(--omni-color-border, #d1d5db);
    --_success: var(--omni-color-success, #047857);
    --_warning: var(--omni-color-warning, #9a3412);
    --_danger: var(--omni-color-danger, #b91c1c);
    --_skeleton: var(--omni-color-skeleton, #e5e7eb);
    --_radius: var(--omni-radius, 0.5rem);
    --_gap: var(--omni-space, 0.75rem);
    display: block;
    box-sizing: border-box;
    color: var(--_text);
    font: var(--omni-font, inherit);
  }
  :host([hidden]) {
    display: none !important;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }
  button {
    font: inherit;
    min-block-size: 2.25rem;
    padding: 0.4em 0.9em;
    border-radius: var(--_radius);
    border: 1px solid var(--_accent);
    background: var(--_surface);
    color: var(--_accent);
    cursor: pointer;
  }
  button.primary {
    background: var(--_accent);
    color: var(--_on-accent);
  }
  button:disabled {
    cursor: default;
    opacity: 0.7;
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    inline-size: 1px;
    block-size: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  h2 {
    margin: 0 0 0.5rem;
    font-size: 1.15em;
    line-height: 1.3;
  }
  .muted {
    color: var(--_muted);
  }
  .line {
    display: block;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .bone {
    display: block;
    border-radius: 0.25rem;
    background: var(--_skeleton);
    block-size: 1em;
    margin-block: 0.2em;
  }
  @media (prefers-reduced-motion: no-preference) {
    .bone {
      animation: omni-pulse 1.2s ease-in-out infinite alternate;
    }
  }
  @keyframes omni-pulse {
    to {
      opacity: 0.45;
    }
  }
`;

/** Product cards, in a grid or a scrollable row; every card has the same reserved height. */
export const cards = css`
  [part~='list'] {
    list-style: none;
    margin: 0;
    padding: 0.25rem;
    display: grid;
    gap: var(--_gap);
    grid-template-columns: repeat(auto-fill, minmax(var(--omni-card-width, 10rem), 1fr));
  }
  :host([layout='row']) [part~='list'] {
    grid-auto-flow: column;
    grid-template-columns: none;
    grid-auto-columns: var(--omni-card-width, 10rem);
    overflow-x: auto;
    scroll-snap-type: x mandatory;
    overscroll-behavior-x: contain;
  }
  [part~='card'] {
    display: grid;
    grid-template-rows: auto 2.6em 1.3em 2.6em 2.25rem;
    gap: 0.35rem;
    padding: 0.5rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    scroll-snap-align: start;
  }
  [part~='image'],
  .image {
    display: block;
    inline-size: 100%;
    aspect-ratio: 1;
    object-fit: cover;
    border-radius: calc(var(--_radius) / 2);
    background: var(--_skeleton);
  }
  [part~='title'] {
    display: -webkit-box;
    -webkit-box-orient: vertical;
    -webkit-line-clamp: 2;
    overflow: hidden;
    line-height: 1.3;
    color: inherit;
  }
  [part~='reason'] {
    font-size: 0.85em;
    line-height: 1.3;
    display: -webkit-box;
    -webkit-box-orient: vertical;
    -webkit-line-clamp: 2;
    overflow: hidden;
  }
  [part~='price'] {
    font-weight: 600;
    line-height: 1.3;
  }
  .image.bone {
    block-size: auto;
    margin: 0;
  }
  .bone.button {
    block-size: 2.25rem;
    margin: 0;
  }
`;

/** `url` resolved against the page, if it is http(s); anything else (javascript:, data:) is dropped. */
export function safeUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url, document.baseURI);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Dispatches a bubbling, composed `omni-*` event. */
export function emit<K extends keyof HTMLElementEventMap>(
  host: HTMLElement,
  type: K,
  detail?: HTMLElementEventMap[K] extends CustomEvent<infer D> ? D : never,
  cancelable = false,
): boolean {
  return host.dispatchEvent(
    detail === undefined
      ? new Event(type, { bubbles: true, composed: true, cancelable })
      : new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }),
  );
}

/** One product card: image, title (a link when the product has a safe URL), price, reason, add. */
export function productCard(
  l: LocalizeController,
  p: ProductCard,
  reason?: string,
): TemplateResult {
  const href = safeUrl(p.url);
  const src = safeUrl(p.image);
  const title = html`<span part="title">${p.title}</span>`;
  return html`<li part="card" data-sku=${p.sku}>
    ${
      src
        ? html`<img part="image" src=${src} alt="" loading="lazy" />`
        : html`<span class="image" part="image"></span>`
    }
    ${href ? html`<a part="link" href=${href}>${title}</a>` : title}
    <span part="price">${l.price(p.price, p.currency)}</span>
    <span part="reason" class="muted">${reason ?? nothing}</span>
    <omni-add-to-cart
      sku=${p.sku}
      .price=${p.price}
      exportparts="button: add-button"
    ></omni-add-to-cart>
  </li>`;
}

/** A card's placeholder, the same size as the card. */
export const skeletonCard = html`<li part="card skeleton" aria-hidden="true">
  <span class="image bone"></span><span class="bone"></span><span class="bone"></span
  ><span class="bone"></span><span class="bone button"></span>
</li>`;

/**
 * The loading, empty and error slots of a card list, always rendered (never conditionally) and
 * shown by state; `errorText` is the error slot's default content (none: the slot alone).
 */
export function listStates(
  t: { loading: string; noItems: string },
  state: { loading: boolean; error: boolean; empty: boolean; count: number },
  errorText?: string,
): TemplateResult {
  return html`<div ?hidden=${!state.loading || state.error} aria-busy="true">
      <slot name="loading">
        <span class="sr-only">${t.loading}</span>
        <ul part="list" aria-hidden="true">
          ${Array.from({ length: state.count }, () => skeletonCard)}
        </ul>
      </slot>
    </div>
    <div ?hidden=${state.loading || state.error || !state.empty}>
      <slot name="empty"><p class="muted">${t.noItems}</p></slot>
    </div>
    <div ?hidden=${!state.error}>
      <slot name="error">${errorText ? html`<p class="muted">${errorText}</p>` : nothing}</slot>
    </div>`;
}
