import { LitElement, css, html } from 'lit';
import { property } from 'lit/decorators.js';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { base, emit } from './shared.js';

/**
 * @tag omni-cart-button
 * @summary A cart button with a live item count (this tab, other tabs, other devices). Pressing
 * it opens the page's drawer `<omni-cart>` (the one named by `cart`, else the first), unless a
 * listener cancels `omni-cart-open`. Count changes are announced to screen readers.
 *
 * @event omni-cart-open - The shopper asked to open the cart (cancelable).
 * @slot - Button content; defaults to the word "Cart".
 * @csspart button - The native button.
 * @csspart badge - The count badge.
 * @cssproperty --omni-color-accent - Badge background.
 * @cssproperty --omni-color-on-accent - Badge text colour.
 */
export class OmniCartButton extends LitElement {
  // The opener of the cart drawer gets focus back: focusing the host focuses the button.
  static override shadowRootOptions = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  static override styles = [
    base,
    css`
      :host {
        display: inline-block;
        min-inline-size: 5.5em;
        min-block-size: 2.5em;
      }
      button {
        display: inline-flex;
        align-items: center;
        gap: 0.5em;
        border-radius: 999px;
        border-color: currentColor;
        color: inherit;
        background: transparent;
      }
      [part='badge'] {
        min-inline-size: 1.5em;
        padding: 0 0.35em;
        border-radius: 999px;
        background: var(--_accent);
        color: var(--_on-accent);
        font-variant-numeric: tabular-nums;
        text-align: center;
      }
    `,
  ];

  /** The count shown without a client (a static page); the client's cart count wins. */
  @property({ type: Number }) count = 0;
  /** The `id` of the `<omni-cart>` to open; the first drawer cart of the page by default. */
  @property() cart = '';

  private readonly client = new ClientController(this, { select: (s) => s.cart.count });
  private readonly l = new LocalizeController(this);
  /** The count last announced: the first render announces nothing. */
  private spoken: number | undefined;

  private handleClick() {
    if (!emit(this, 'omni-cart-open', undefined, true)) return;
    const doc = this.ownerDocument;
    const target = this.cart
      ? doc.getElementById(this.cart)
      : doc.querySelector('omni-cart[variant="drawer"]');
    if (target && 'show' in target && typeof target.show === 'function') {
      (target as { show(opener?: HTMLElement): void }).show(this);
    }
  }

  override render() {
    const { t } = this.l;
    const count = this.client.value ?? this.count;
    const live = this.client.client && this.spoken !== undefined && this.spoken !== count;
    const announce = live ? t.cartLabel(count) : '';
    if (this.client.client) this.spoken = count;
    return html`<button part="button" aria-label=${t.cartLabel(count)} @click=${this.handleClick}>
        <slot>${t.cart}</slot>
        <span part="badge" aria-hidden="true">${count}</span>
      </button>
      <span class="sr-only" role="status">${announce}</span>`;
  }
}

declare global {
  interface HTMLElementEventMap {
    'omni-cart-open': Event;
  }
}
