export * from './podium-env.js';
