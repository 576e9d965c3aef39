/**
 * The bench's podium listeners process, as the listeners app's main.ts starts: its settings
 * put in its environment (the Olympics listeners read theirs, ALERTS_MAX..., from there, as
 * the app's do; a traced run's OTEL_* variables too), then tracing when they ask for it,
 * before anything is imported that it instruments, then the process itself
 * (podium-listeners-app.ts).
 */
import { startTracing } from '../../apps/tracing.js';
import { childConfig } from './sampler.js';

Object.assign(process.env, childConfig().env);
await startTracing('listeners');
await import('./podium-listeners-app.js');
