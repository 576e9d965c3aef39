// The entry point. It checks the Node version before anything else loads: static imports
// are all evaluated before the code below them, and on an older Node the app dies inside
// one with an error that does not say why (`Map.groupBy is not a function`). The check has
// no imports of its own, so that it loads on any Node.
// Tracing, when the OTEL_* variables ask for it, starts next: before the app imports what
// it instruments.
import { requireSupportedNode } from '../../supported-node.js';

requireSupportedNode('listeners');
const { startTracing } = await import('../../tracing.js');
await startTracing('listeners');
await import('./listeners.bootstrap.js');
