export { readScriptConfig, EmbedConfigError, type EmbedConfig } from './config.js';
