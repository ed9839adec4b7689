import type { OmniClient } from '@omnikit/sdk';
import type { EmbedConfig } from './config.js';
import type { HandoffOutcome } from '@omnikit/sdk';

/** The detail of `omnikit:ready`: the page's client and the configuration it was made from. */
export interface OmnikitReadyDetail {
  client: OmniClient;
  config: EmbedConfig;
}

declare global {
  interface Window {
    /** The page's omnikit client, created by the script tag (dist/omnikit.js). */
    omnikit?: OmniClient;
  }
  interface DocumentEventMap {
    /** The script tag created the client and defined the elements. */
    'omnikit:ready': CustomEvent<OmnikitReadyDetail>;
    /** The page was opened with `?omni_handoff=CODE`: what claiming it gave. */
    'omnikit:handoff': CustomEvent<HandoffOutcome>;
  }
}
