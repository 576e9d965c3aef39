export * from './podium-options.js';
export * from './podium.module.js';
