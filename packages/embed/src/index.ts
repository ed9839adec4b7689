export { readScriptConfig, clientOptions, EmbedConfigError, type EmbedConfig } from './config.js';
export { claimPageHandoff, takeHandoffCode, HANDOFF_PARAM } from './handoff.js';
export type { HandoffOutcome } from '@omnikit/sdk';
export type { OmnikitReadyDetail } from './events.js';
