export * from './message-type.js';
export * from './glob.js';
