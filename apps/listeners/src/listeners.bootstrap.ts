import { LISTENER_MODULES } from '@podium/listeners';
import { runListenersProcess } from './run-listeners-process.js';

/** The listeners process with podium's listener modules (started by main.ts). */
runListenersProcess(LISTENER_MODULES);
