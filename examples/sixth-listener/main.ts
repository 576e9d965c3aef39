// The listeners app with one listener more than podium's own: the README's recipe
// (examples/big-spenders) added to LISTENER_MODULES, as a user adds theirs. The suite runs
// its crash and ghost-order tests on it, so that nothing counts the listeners by hand.
import { requireSupportedNode } from '../../libs/config/src/supported-node.js';

requireSupportedNode('listeners');
const [{ LISTENER_MODULES }, { BigSpendersModule }, { runListenersProcess }] =
  await Promise.all([
    import('@podium/listeners'),
    import('../big-spenders/big-spenders.module.js'),
    import('../../apps/listeners/src/run-listeners-process.js'),
  ]);
runListenersProcess([...LISTENER_MODULES, BigSpendersModule]);
