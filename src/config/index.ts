export { ConfigError, loadConfig, settingSource } from './load-config.js';
export type { ConfigHooks, LoadConfigOptions, ParleyConfig, UploadSettings, WebhookEndpointConfig } from './load-config.js';
export { ConfigFileSchema } from './schema.js';
export type { ConfigFile } from './schema.js';
