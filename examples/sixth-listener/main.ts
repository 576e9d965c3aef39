// The listeners app with one listener more than podium's own: the README's recipe
// (examples/big-spenders) added to LISTENER_MODULES, as a user adds theirs. The suite runs
// its crash and ghost-order tests on it, so that nothing counts the listeners by hand.
import { requireSupportedNode } from '../../apps/supported-node.js';

requireSupportedNode('listeners');
const [{ SIX_LISTENER_MODULES }, { runListenersProcess }] = await Promise.all([
  import('./listener-modules.js'),
  import('../../apps/listeners/src/run-listeners-process.js'),
]);
runListenersProcess(SIX_LISTENER_MODULES);
