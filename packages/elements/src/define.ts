import { DEV_MODE } from '@omnikit/sdk';
import { OmniCartButton } from './cart-button.js';

const elements = {
  'omni-cart-button': OmniCartButton,
} as const;

/** Registers every omnikit element; safe to call more than once. */
export function defineElements(registry: CustomElementRegistry = customElements): void {
  for (const [tag, element] of Object.entries(elements)) {
    const existing = registry.get(tag);
    if (!existing) registry.define(tag, element);
    else if (DEV_MODE && existing !== element) {
      console.warn(
        `[omnikit] (dev) <${tag}> is already defined by another class; keeping that one.`,
      );
    }
  }
}

defineElements();

declare global {
  interface HTMLElementTagNameMap {
    'omni-cart-button': OmniCartButton;
  }
}
