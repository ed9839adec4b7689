import { LitElement, css, html, nothing } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import type { LineView, MergeSummary, Product, Status } from '@omnikit/sdk';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { base, emit, safeUrl } from './shared.js';
import { createCatalog } from '@omnikit/sdk/catalog';

/**
 * @tag omni-cart
 * @summary The cart, inline or as a drawer (`variant="drawer"`: a modal dialog that traps focus,
 * closes on Escape and gives focus back to its opener). Lines with image, title, price, a
 * quantity stepper and remove; the subtotal; the pickup store; the sync state in words; after
 * sign-in, a notice of what the merge added; "continue on another device" (`<omni-handoff>`).
 *
 * @event omni-quantity-change - The shopper changed a line's quantity (`detail: { sku, qty }`).
 * @event omni-line-remove - The shopper removed a line (`detail: { sku }`).
 * @event omni-cart-close - The drawer closed (Escape, the close button, or `close()`).
 * @slot loading - Shown while the cart loads; three placeholder lines by default.
 * @slot empty - Shown when the cart is empty.
 * @slot error - Shown when product details could not be loaded (the lines still show).
 * @slot footer - Extra content under the subtotal, e.g. a checkout link.
 * @csspart dialog - The drawer's native `<dialog>` (drawer variant only).
 * @csspart base - The cart's content box.
 * @csspart header - The heading row.
 * @csspart sync - The sync state in words.
 * @csspart notice - The merge notice.
 * @csspart undo-merge - The notice's undo button: takes what the merge added out again.
 * @csspart lines - The list of lines.
 * @csspart line - One line.
 * @csspart image - A line's image.
 * @csspart stepper - A line's quantity stepper.
 * @csspart remove - A line's remove button.
 * @csspart footer - Subtotal, pickup store and the handoff button.
 * @csspart subtotal - The subtotal.
 * @csspart pickup - The pickup store.
 * @csspart handoff - The "continue on another device" button.
 * @cssproperty --omni-color-accent - Buttons and focus rings.
 * @cssproperty --omni-color-surface - Background.
 * @cssproperty --omni-color-border - Separators.
 * @cssproperty --omni-drawer-width - Width of the drawer (default `min(26rem, 100vw)`).
 * @cssproperty --omni-cart-min-height - Space reserved for the inline cart (default `12rem`).
 */
export class OmniCart extends LitElement {
  static override styles = [
    base,
    css`
      [part~='base'] {
        display: flex;
        flex-direction: column;
        gap: var(--_gap);
        min-block-size: var(--omni-cart-min-height, 12rem);
        background: var(--_surface);
      }
      dialog {
        margin: 0 0 0 auto;
        padding: 1rem;
        block-size: 100%;
        max-block-size: 100%;
        inline-size: var(--omni-drawer-width, min(26rem, 100vw));
        max-inline-size: 100vw;
        border: none;
        background: var(--_surface);
        color: var(--_text);
        overflow-y: auto;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.4);
      }
      [part~='header'] {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: var(--_gap);
      }
      h2 {
        margin: 0;
        font-size: 1.25em;
      }
      [part~='sync'],
      [part~='pickup'] {
        margin: 0;
        font-size: 0.9em;
      }
      [part~='notice'] {
        display: flex;
        gap: var(--_gap);
        align-items: start;
        justify-content: space-between;
        padding: 0.5rem 0.75rem;
        border-inline-start: 4px solid var(--_success);
        background: var(--_surface);
      }
      [part~='notice'] p {
        margin: 0;
      }
      .notice-actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      [part~='line'] {
        display: grid;
        grid-template-columns: 4rem 1fr auto;
        grid-template-rows: 1.4em 1.4em 2.25rem;
        column-gap: var(--_gap);
        row-gap: 0.25rem;
        padding-block: 0.5rem;
        border-block-end: 1px solid var(--_border);
      }
      [part~='image'] {
        grid-row: 1 / 4;
        inline-size: 4rem;
        block-size: 4rem;
        object-fit: cover;
        border-radius: calc(var(--_radius) / 2);
        background: var(--_skeleton);
      }
      .title {
        grid-column: 2 / 4;
        color: inherit;
      }
      .total {
        text-align: end;
        font-weight: 600;
      }
      [part~='stepper'] {
        display: inline-flex;
        align-items: center;
        gap: 0.25rem;
      }
      [part~='stepper'] button {
        min-inline-size: 2.25rem;
        padding: 0;
      }
      [part~='stepper'] output {
        min-inline-size: 2ch;
        text-align: center;
        font-variant-numeric: tabular-nums;
      }
      [part~='remove'] {
        border-color: transparent;
        color: var(--_danger);
        padding-inline: 0.25rem;
      }
      [part~='footer'] {
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
      }
      .bone.tall {
        block-size: 4rem;
        margin-block: 0.5rem;
      }
      [part~='subtotal'] {
        display: flex;
        justify-content: space-between;
        font-weight: 600;
        margin: 0;
      }
    `,
  ];

  /** `inline` (in the page flow) or `drawer` (a modal side panel opened by `show()`). */
  @property({ reflect: true }) variant: 'inline' | 'drawer' = 'inline';
  /** Whether the drawer is open. */
  @property({ type: Boolean, reflect: true }) open = false;

  @state() private merge: MergeSummary | null = null;
  @state() private handoff = false;
  @state() private announcement = '';

  @query('dialog') private dialog!: HTMLDialogElement | null;
  @query('h2') private heading!: HTMLElement | null;

  private readonly client = new ClientController(this, {
    select: (s) => s,
    on: { merge: (merge) => (this.merge = merge) },
  });
  private readonly l = new LocalizeController(this);
  private opener: HTMLElement | null = null;

  /** Local state loaded (IndexedDB read): until then the cart shows its loading slot. */
  private readonly started = new Task(this, {
    task: async ([client]) => client?.start(),
    args: () => [this.client.client] as const,
  });

  /** Catalog details of the cart's lines (titles, images, prices). */
  private readonly products = new Task(this, {
    task: async ([client, skus]) => {
      if (!client || !skus) return new Map<string, Product>();
      const list = await createCatalog(client).products.get(skus.split(' '));
      return new Map(list.map((p) => [p.sku, p]));
    },
    args: () => [this.client.client, this.skus()] as const,
  });

  /** The pickup store's name, read from a stock answer (which lists every store). */
  private readonly pickup = new Task(this, {
    task: async ([client, storeId, sku]) => {
      if (!client || !storeId || !sku) return null;
      const answer = await createCatalog(client).stock.near({ sku });
      return answer.stores.find((s) => s.store.id === storeId)?.store.name ?? null;
    },
    args: () => {
      const cart = this.client.value?.cart;
      return [this.client.client, cart?.pickupStore, cart?.lines[0]?.sku] as const;
    },
  });

  /** Opens the drawer; focus returns to `opener` (or whatever had it) when it closes. */
  show(opener?: HTMLElement): void {
    this.opener = opener ?? (this.ownerDocument.activeElement as HTMLElement | null);
    this.open = true;
  }

  /** Closes the drawer. */
  close(): void {
    this.open = false;
  }

  protected override updated(): void {
    const dialog = this.dialog;
    if (!dialog) return;
    if (this.open && !dialog.open) {
      dialog.showModal();
      this.client.client?.cart.view();
    } else if (!this.open && dialog.open) dialog.close();
  }

  private skus(): string {
    return (this.client.value?.cart.lines ?? []).map((l) => l.sku).join(' ');
  }

  private titleOf(sku: string): string {
    return this.products.value?.get(sku)?.title ?? sku;
  }

  private handleDialogClose() {
    this.open = false;
    this.handoff = false;
    emit(this, 'omni-cart-close');
    const opener = this.opener;
    this.opener = null;
    if (opener?.isConnected) opener.focus();
  }

  /**
   * Keeps Tab inside the open drawer: the modal dialog makes the page inert, and this wraps
   * focus from the last control to the first (and back) instead of leaving for the browser UI.
   */
  private handleKeydown(e: KeyboardEvent) {
    if (e.key !== 'Tab' || !this.dialog) return;
    const focusable = [
      ...this.dialog.querySelectorAll<HTMLElement>('button, a[href], input, omni-handoff'),
    ].filter((n) => !(n as HTMLButtonElement).disabled && n.checkVisibility());
    const active = this.shadowRoot!.activeElement;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const to = e.shiftKey ? (active === first ? last : null) : active === last ? first : null;
    if (to) {
      e.preventDefault();
      to.focus();
    }
  }

  private async handleQuantity(line: LineView, qty: number) {
    const client = this.client.client;
    if (!client || qty < 1) return;
    this.announcement = this.l.t.quantityIs(this.titleOf(line.sku), qty);
    emit(this, 'omni-quantity-change', { sku: line.sku, qty });
    await client.cart.setQuantity(line.sku, qty, line.options);
  }

  private async handleRemove(line: LineView) {
    const client = this.client.client;
    if (!client) return;
    this.announcement = this.l.t.removed(this.titleOf(line.sku));
    emit(this, 'omni-line-remove', { sku: line.sku });
    // The view changes at once; the promise says when the change is stored.
    const stored = client.cart.remove(line.sku, line.options);
    // The focused button left with its line: keep the keyboard user in the cart.
    await this.updateComplete;
    this.heading?.focus();
    await stored;
  }

  private syncWords(status: Status): string {
    const words = this.l.t.sync;
    if (status.state === 'offline') return words.offline;
    if (status.state === 'error') return words.error;
    // Not even stored in this browser yet: say so, leaving now would lose it.
    if (status.unsaved > 0) return this.l.t.unsaved(status.unsaved);
    if (status.state === 'syncing' || status.pending > 0) return words.saving;
    return status.storage === 'memory' ? words.local : words.saved;
  }

  /** Takes the merge's additions out again (through the outbox: every device, offline too). */
  private handleUndoMerge = async () => {
    const merge = this.merge;
    const client = this.client.client;
    if (!merge || !client) return;
    this.merge = null;
    await client.identity.undoMerge(merge);
    this.announcement = this.l.t.mergeUndone;
  };

  private renderNotice() {
    const merge = this.merge;
    const { t } = this.l;
    const added = merge?.added.map((a) => `${a.qty} × ${this.titleOf(a.sku)}`) ?? [];
    const changed = merge?.changed.map((c) => `${this.titleOf(c.sku)} ${c.from} → ${c.to}`) ?? [];
    return html`<div part="notice" role="status" ?hidden=${!added.length && !changed.length}>
      <div>
        ${added.length ? html`<p>${t.merged(this.l.list(added))}</p>` : nothing}
        ${changed.length ? html`<p>${t.mergedChanged(this.l.list(changed))}</p>` : nothing}
      </div>
      <div class="notice-actions">
        <button part="undo-merge" @click=${this.handleUndoMerge}>${t.undoMerge}</button>
        <button @click=${() => (this.merge = null)}>${t.dismiss}</button>
      </div>
    </div>`;
  }

  private renderLine(line: LineView) {
    const { t } = this.l;
    const product = this.products.value?.get(line.sku);
    const title = product?.title ?? line.sku;
    // Details still on their way: placeholders of the same size, so nothing moves when they land.
    const waiting = !product && this.products.status === TaskStatus.PENDING;
    const src = safeUrl(product?.image);
    const href = safeUrl(product?.url);
    const price = line.price ?? product?.price;
    const currency = this.client.value?.cart.currency ?? product?.currency ?? 'USD';
    return html`<li part="line" data-sku=${line.sku}>
      ${src ? html`<img part="image" src=${src} alt="" />` : html`<span part="image"></span>`}
      ${
        waiting
          ? html`<span class="title bone"></span>`
          : href
            ? html`<a class="title line" href=${href}>${title}</a>`
            : html`<span class="title line">${title}</span>`
      }
      <span class="muted line">${price === undefined ? '' : this.l.price(price, currency)}</span>
      <span class="total">
        ${price === undefined ? '' : this.l.price(price * line.qty, currency)}
      </span>
      <span part="stepper" role="group" aria-label=${`${t.quantity}: ${title}`}>
        <button
          aria-label=${t.decrease(title)}
          ?disabled=${line.qty <= 1}
          @click=${() => this.handleQuantity(line, line.qty - 1)}
        >
          −
        </button>
        <output aria-live="off">${line.qty}</output>
        <button
          aria-label=${t.increase(title)}
          @click=${() => this.handleQuantity(line, line.qty + 1)}
        >
          +
        </button>
      </span>
      <button
        part="remove"
        aria-label=${t.removeLabel(title)}
        @click=${() => this.handleRemove(line)}
      >
        ${t.remove}
      </button>
    </li>`;
  }

  override render() {
    const { t } = this.l;
    const state = this.client.value;
    const cart = state?.cart;
    const loading = !cart || this.started.status !== TaskStatus.COMPLETE;
    const lines = loading ? [] : (cart?.lines ?? []);
    const storeName = this.pickup.value;
    const body = html`<div part="base">
      <div part="header">
        <h2 id="title" tabindex="-1">${t.yourCart}</h2>
        ${
          this.variant === 'drawer'
            ? html`<button @click=${() => this.close()}>${t.close}</button>`
            : nothing
        }
      </div>
      <p part="sync" class="muted">${state && !loading ? this.syncWords(state.status) : ''}</p>
      ${this.renderNotice()}
      <div ?hidden=${!loading}>
        <slot name="loading"
          ><span class="sr-only">${t.loading}</span
          >${[0, 1].map(() => html`<span class="bone tall"></span>`)}</slot
        >
      </div>
      <div ?hidden=${loading || lines.length > 0}>
        <slot name="empty"><p>${t.emptyCart}</p></slot>
      </div>
      <div ?hidden=${loading || this.products.status !== TaskStatus.ERROR}>
        <slot name="error"><p class="muted">${t.loadError}</p></slot>
      </div>
      <ul part="lines" aria-labelledby="title" ?hidden=${!lines.length}>
        ${lines.map((line) => this.renderLine(line))}
      </ul>
      <div part="footer" ?hidden=${!lines.length}>
        <p part="pickup" ?hidden=${!storeName}>${storeName ? t.pickupAt(storeName) : ''}</p>
        <p part="subtotal">
          <span>${t.subtotal}</span
          ><span>${cart ? this.l.price(cart.subtotal, cart.currency) : ''}</span>
        </p>
        <slot name="footer"></slot>
        <button
          part="handoff"
          aria-expanded=${this.handoff}
          @click=${() => (this.handoff = !this.handoff)}
        >
          ${t.continueElsewhere}
        </button>
        ${this.handoff ? html`<omni-handoff></omni-handoff>` : nothing}
      </div>
      <span class="sr-only" role="status">${this.announcement}</span>
    </div>`;
    return this.variant === 'drawer'
      ? html`<dialog
          part="dialog"
          aria-labelledby="title"
          @close=${this.handleDialogClose}
          @keydown=${this.handleKeydown}
        >
          ${body}
        </dialog>`
      : body;
  }
}

declare global {
  interface HTMLElementEventMap {
    'omni-quantity-change': CustomEvent<{ sku: string; qty: number }>;
    'omni-line-remove': CustomEvent<{ sku: string }>;
    'omni-cart-close': Event;
  }
}
