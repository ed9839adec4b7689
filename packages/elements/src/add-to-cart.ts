import { LitElement, css, html } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { base, emit } from './shared.js';

/** How long the button says "Added" before it offers to add again (ms). */
const DONE_MS = 2000;

/**
 * @tag omni-add-to-cart
 * @summary A real `<button>` that adds a product to the cart; works offline (the SDK keeps the
 * change and syncs it later). It shows a pending state until the change is stored, then "Added".
 *
 * @event omni-add-to-cart - The shopper added `qty` of `sku` (`detail: { sku, qty }`).
 * @slot - Button text; "Add to cart" by default.
 * @csspart button - The native button.
 * @cssproperty --omni-color-accent - Button background.
 * @cssproperty --omni-color-on-accent - Button text colour.
 * @cssproperty --omni-radius - Corner radius.
 */
export class OmniAddToCart extends LitElement {
  // The opener of the cart drawer gets focus back: focusing the host focuses the button.
  static override shadowRootOptions = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  static override styles = [
    base,
    css`
      :host {
        display: inline-block;
        min-inline-size: 9rem;
      }
      button {
        inline-size: 100%;
        white-space: nowrap;
      }
    `,
  ];

  /** The product to add. */
  @property({ reflect: true }) sku = '';
  /** How many to add. */
  @property({ type: Number }) qty = 1;
  /** Unit price in minor units, if known: it feeds the cart subtotal before the catalog answers. */
  @property({ type: Number }) price: number | undefined;

  @state() private phase: 'idle' | 'pending' | 'done' = 'idle';

  private readonly client = new ClientController(this, { select: () => null });
  private readonly l = new LocalizeController(this);
  private timer: ReturnType<typeof setTimeout> | undefined;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.timer);
    this.phase = 'idle';
  }

  private async handleClick() {
    const client = this.client.client;
    if (!client || !this.sku || this.phase === 'pending') return;
    const qty = Math.max(1, Math.floor(this.qty) || 1);
    this.phase = 'pending';
    clearTimeout(this.timer);
    try {
      // Resolves once the change is durable on this device (sooner-returning SDKs: at once).
      await client.cart.add(this.sku, qty, this.price === undefined ? {} : { price: this.price });
      emit(this, 'omni-add-to-cart', { sku: this.sku, qty });
      this.phase = 'done';
      // Not for an element that left the page while the change was stored.
      if (this.isConnected) this.timer = setTimeout(() => (this.phase = 'idle'), DONE_MS);
    } catch (e) {
      this.phase = 'idle';
      throw e;
    }
  }

  override render() {
    const { t } = this.l;
    const label = this.phase === 'pending' ? t.adding : this.phase === 'done' ? t.added : undefined;
    return html`<button
      part="button"
      class="primary"
      ?disabled=${!this.client.client || !this.sku}
      aria-busy=${this.phase === 'pending'}
      @click=${this.handleClick}
    >
      <slot ?hidden=${!!label}>${t.addToCart}</slot>${label}
    </button>`;
  }
}

declare global {
  interface HTMLElementEventMap {
    'omni-add-to-cart': CustomEvent<{ sku: string; qty: number }>;
  }
}
