import { LitElement, css, html } from 'lit';
import { state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { ClientController } from './context.js';
import { LocalizeController } from './localize.js';
import { loadQrEncoder, type QrEncoder } from './qr-load.js';
import { base, emit, safeUrl } from './shared.js';

/**
 * @tag omni-handoff
 * @summary "Continue on another device": a one-time code for this shopper's cart as a QR code
 * (made on this page, no outside service), its short URL and a countdown. The other device
 * opens the URL and joins the cart. An expired code offers a new one. The QR encoder is loaded
 * when the first code is shown (`loadQrEncoder`); if it cannot be (offline, blocked), the element
 * says so in the QR code's place, with the code, and the URL is still shown.
 *
 * @event omni-handoff-refresh - The shopper asked for a new code.
 * @slot loading - Shown while the code is being created and its QR code drawn.
 * @slot error - Shown when no code could be created (offline, or no consent yet).
 * @csspart qr - The QR code.
 * @csspart code - The code, shown in the QR code's place when it could not be drawn.
 * @csspart url - The short URL.
 * @csspart countdown - Time left.
 * @csspart refresh - The "New code" button.
 * @cssproperty --omni-qr-size - Side of the QR code (default `11rem`).
 */
export class OmniHandoff extends LitElement {
  /**
   * Loads the QR encoder. By default a dynamic import of the one this package ships (bundlers
   * split it into a chunk of its own); the script-tag embed loads `omnikit-qr.js` from beside its
   * script. A site may set its own; a rejection shows the code in the QR code's place.
   */
  static loadQrEncoder: () => Promise<QrEncoder> = loadQrEncoder;

  static override styles = [
    base,
    css`
      :host {
        text-align: center;
      }
      [part~='qr'] {
        display: block;
        margin: 0 auto 0.5rem;
        inline-size: var(--omni-qr-size, 11rem);
        block-size: var(--omni-qr-size, 11rem);
        color: #000;
      }
      .fill,
      [part~='qr'] svg {
        display: block;
        inline-size: 100%;
        block-size: 100%;
      }
      p {
        margin: 0.25rem 0;
        min-block-size: 1.4em;
      }
      .note {
        color: var(--_text);
      }
      [part~='code'] {
        font: 600 1.4em monospace;
      }
      [part~='url'] {
        overflow-wrap: anywhere;
      }
      .bone.qr {
        block-size: 100%;
        margin: 0;
      }
    `,
  ];

  @state() private now = Date.now();
  /** Bumped by "New code": a new value asks the server for a new code. */
  @state() private round = 0;

  private readonly client = new ClientController(this, { select: () => null });
  private readonly l = new LocalizeController(this);
  private ticker: ReturnType<typeof setInterval> | undefined;

  private readonly code = new Task(this, {
    task: async ([client]) => {
      if (!client) return null;
      // The encoder loads while the server makes the code (the QR task below waits for it).
      this.loadEncoder().catch(() => {});
      const handoff = await client.identity.createHandoff();
      this.now = Date.now();
      return handoff;
    },
    args: () => [this.client.client, this.round] as const,
  });

  private encoder: Promise<QrEncoder> | undefined;
  /** The encoder, asked for once per element: a handoff opened again tries again. */
  private loadEncoder() {
    return (this.encoder ??= OmniHandoff.loadQrEncoder());
  }

  private readonly qr = new Task(this, {
    task: async ([url]) => (url ? (await this.loadEncoder())(url) : null),
    args: () => [this.code.value?.url] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.ticker = setInterval(() => (this.now = Date.now()), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.ticker);
  }

  private handleRefresh() {
    emit(this, 'omni-handoff-refresh');
    this.round++;
  }

  override render() {
    const { t } = this.l;
    const { status, value } = this.code;
    const failed = status === TaskStatus.ERROR;
    const loading = !failed && (!value || status === TaskStatus.PENDING);
    const left = value ? Math.max(0, Math.ceil((value.expiresAt - this.now) / 1000)) : 0;
    const expired = !!value && !loading && left === 0;
    const ready = !!value && !loading && !failed;
    const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    const href = safeUrl(value?.url);
    const shown = ready && !expired;
    const qr = shown && this.qr.status === TaskStatus.COMPLETE && this.qr.value;
    const qrFailed = shown && this.qr.status === TaskStatus.ERROR;
    const drawing = loading || (shown && !qr && !qrFailed);
    // The QR box keeps its size in every state: placeholder, code, QR code, or the code as text.
    return html`<p class="muted">${t.handoffHint}</p>
      <div part="qr">
        <div class="fill" ?hidden=${!drawing}>
          <slot name="loading"
            ><span class="sr-only">${t.loading}</span><span class="bone qr"></span
          ></slot>
        </div>
        <div ?hidden=${!failed}>
          <slot name="error"><p>${t.loadError}</p></slot>
        </div>
        ${
          qr
            ? html`<div class="fill" role="img" aria-label=${t.qrLabel(value.url)}>
                <svg
                  viewBox="0 0 ${qr.size} ${qr.size}"
                  shape-rendering="crispEdges"
                  aria-hidden="true"
                >
                  <rect width="100%" height="100%" fill="#fff" />
                  <path d=${qr.d} fill="currentColor" />
                </svg>
              </div>`
            : ''
        }
        <div class="note" aria-live="polite">
          ${
            qrFailed
              ? html`<p>${t.qrFailed}</p>
                  <p part="code">${value.code}</p>`
              : ''
          }
        </div>
      </div>
      <p part="url">
        ${ready && !expired ? (href ? html`<a href=${href}>${value.url}</a>` : value.url) : ''}
      </p>
      <p part="countdown" role="timer">
        ${ready ? (expired ? t.expired : t.expiresIn(clock)) : ''}
      </p>
      <button part="refresh" ?hidden=${!expired && !failed} @click=${this.handleRefresh}>
        ${t.newCode}
      </button>`;
  }
}

declare global {
  interface HTMLElementEventMap {
    'omni-handoff-refresh': Event;
  }
}
