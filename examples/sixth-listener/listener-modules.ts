import { LISTENER_MODULES } from '@podium/listeners';
import { BigSpendersModule } from '../big-spenders/big-spenders.module.js';

/**
 * The listeners app's modules with the README's listener as one more. Once a user follows
 * the README's recipe (a copy of examples/big-spenders added to LISTENER_MODULES), the app
 * hosts it already, and a second BigSpendersModule would claim its name twice.
 */
export const SIX_LISTENER_MODULES = LISTENER_MODULES.some(
  (module) => module.name === BigSpendersModule.name,
)
  ? LISTENER_MODULES
  : [...LISTENER_MODULES, BigSpendersModule];
