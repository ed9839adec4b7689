import { LitElement, css, html } from 'lit';
import { property } from 'lit/decorators.js';

const labels = {
  en: (n: number) => (n === 1 ? 'Cart, 1 item' : `Cart, ${n} items`),
  ko: (n: number) => `장바구니, ${n}개 상품`,
} as const;

/**
 * @summary A cart button with a live item-count badge.
 *
 * @event omni-cart-open - The shopper asked to open the cart.
 * @csspart button - The native button.
 * @csspart badge - The count badge.
 * @cssproperty --omni-color-accent - Badge background (default `#1a56db`).
 * @cssproperty --omni-color-on-accent - Badge text colour (default `#fff`).
 * @slot - Button content; defaults to the word "Cart".
 */
export class OmniCartButton extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      min-inline-size: 5.5em;
      min-block-size: 2.5em;
    }
    :host([hidden]) {
      display: none;
    }
    button {
      font: inherit;
      display: inline-flex;
      align-items: center;
      gap: 0.5em;
      padding: 0.5em 0.9em;
      border-radius: 999px;
      border: 1px solid currentColor;
      background: transparent;
      color: inherit;
      cursor: pointer;
    }
    [part='badge'] {
      min-inline-size: 1.5em;
      padding: 0 0.35em;
      border-radius: 999px;
      background: var(--omni-color-accent, #1a56db);
      color: var(--omni-color-on-accent, #fff);
      font-variant-numeric: tabular-nums;
      text-align: center;
    }
  `;

  /** Number of items in the cart. */
  @property({ type: Number }) count = 0;

  /** Language of the accessible label (`en` or `ko`); defaults to the document language. */
  @property() override lang = '';

  private handleClick() {
    this.dispatchEvent(new Event('omni-cart-open', { bubbles: true, composed: true }));
  }

  override render() {
    const locale = (this.lang || document.documentElement.lang || 'en').startsWith('ko')
      ? 'ko'
      : 'en';
    return html`<button
      part="button"
      aria-label=${labels[locale](this.count)}
      @click=${this.handleClick}
    >
      <slot>${locale === 'ko' ? '장바구니' : 'Cart'}</slot>
      <span part="badge" aria-hidden="true">${this.count}</span>
    </button>`;
  }
}

declare global {
  interface HTMLElementEventMap {
    'omni-cart-open': Event;
  }
}
