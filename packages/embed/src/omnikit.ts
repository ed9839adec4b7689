// The script-tag entry: `<script src="omnikit.js" data-endpoint data-key async></script>`.
import { defineElements } from '@omnikit/elements/define';
import { readScriptConfig, type EmbedConfig } from './config.js';

declare global {
  interface Window {
    omnikit?: { config: EmbedConfig };
  }
  interface DocumentEventMap {
    'omnikit:ready': CustomEvent<{ config: EmbedConfig }>;
  }
}

function findOwnScript(): HTMLScriptElement | null {
  if (document.currentScript instanceof HTMLScriptElement) return document.currentScript;
  // `async` module-less scripts still set currentScript; this covers injected copies.
  return document.querySelector<HTMLScriptElement>('script[data-key][src*="omnikit"]');
}

if (!window.omnikit) {
  const script = findOwnScript();
  if (script) {
    try {
      const config = readScriptConfig(script);
      window.omnikit = { config };
      defineElements();
      document.dispatchEvent(new CustomEvent('omnikit:ready', { detail: { config } }));
    } catch (err) {
      console.error(err);
    }
  }
}
