// Evaluated before the elements are defined (see omnikit.ts): it creates the client from the
// script tag and provides it on <html>, so an element that upgrades the moment it is defined
// (one placed before the script) finds the client on its first context request.
import { provideClient, setDefaultLanguage } from '@omnikit/elements';
import { createClient } from '@omnikit/sdk';
import { trackPageProduct } from '@omnikit/sdk/page-product';
import { clientOptions, readScriptConfig, type EmbedConfig } from './config.js';
import type { OmnikitReadyDetail } from './events.js';
import { script } from './script.js';

/**
 * Creates the page's client from the script tag and publishes it as `window.omnikit`. Returns
 * null when an earlier copy of the bundle already did (including the script twice leaves one
 * client) or when the tag's configuration is unusable.
 */
function boot(): OmnikitReadyDetail | null {
  if (window.omnikit) return null;
  if (!script) return null;
  let config: EmbedConfig;
  try {
    config = readScriptConfig(script);
  } catch (err) {
    // The elements are still defined (they render without a client); the brand sees why.
    console.error(err);
    return null;
  }
  const client = createClient(clientOptions(config));
  window.omnikit = client;
  provideClient(document.documentElement, client);
  // The elements speak the configured language where no `lang` attribute says otherwise.
  if (config.locale) setDefaultLanguage(config.locale);
  // Loads the stored cart now, so a widget's first render already has it.
  void client.start();
  // `data-track-views`: the product the page declares is recently viewed.
  if (config.trackViews) trackPageProduct(client);
  return { client, config };
}

export const booted = boot();
