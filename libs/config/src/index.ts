export * from './podium-env.js';
export * from './podium-config.module.js';
