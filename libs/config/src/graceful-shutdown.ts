import type { INestApplicationContext, Logger } from '@nestjs/common';

/**
 * On SIGTERM or SIGINT: close the app (stop taking work, finish what was taken, close
 * connections), then exit 0, so an orchestrator sees a clean stop. A second signal exits
 * at once. Used instead of Nest's enableShutdownHooks, which re-raises the signal.
 */
export function exitCleanlyOnSignals(app: INestApplicationContext, logger: Logger): void {
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closing) process.exit(1);
      closing = true;
      logger.log(`${signal}: shutting down`);
      app.close().then(
        () => {
          logger.log('Shut down cleanly');
          process.exit(0);
        },
        (err: Error) => {
          logger.error(`Shutdown failed: ${err.message}`);
          process.exit(1);
        },
      );
    });
  }
}
