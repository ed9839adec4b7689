export { readScriptConfig, clientOptions, EmbedConfigError, type EmbedConfig } from './config.js';
export {
  claimHandoffFromUrl,
  takeHandoffCode,
  HANDOFF_PARAM,
  type HandoffOutcome,
} from './handoff.js';
export type { OmnikitReadyDetail } from './events.js';
