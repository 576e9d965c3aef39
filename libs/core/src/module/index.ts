export * from './podium-options.js';
export * from './podium.module.js';
export * from './podium-listeners.module.js';
export * from './listeners-application.js';
