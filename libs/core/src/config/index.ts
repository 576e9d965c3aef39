export * from './podium-env.js';
export * from './podium-config.module.js';
export * from './graceful-shutdown.js';
export * from './delivery-mode.js';
export * from './podium-settings.js';
