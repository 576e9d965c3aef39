import { Injectable, Logger, type INestApplication } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, Response } from 'express';
import { PodiumEnv, operatorAuth } from '@podium/core';
import { BoxOfficeQueues } from '../listeners/box-office-queues.js';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/queues';
/** The list of queues is read again from Redis at most this often, when the dashboard is used. */
const REFRESH_MS = 2000;

/**
 * bull-board over every listener group's queue (BoxOfficeQueues), for the operator only
 * (OPERATOR_USER and OPERATOR_PASSWORD; 403 while they are not set). Listeners come and go,
 * so the list of queues is refreshed from Redis when the dashboard is used.
 */
@Injectable()
export class QueueDashboard {
  private readonly logger = new Logger('QueueDashboard');
  private readonly adapter = new ExpressAdapter();
  private readonly board: ReturnType<typeof createBullBoard>;
  private shown = '';
  private refreshedAt = 0;
  private refreshing?: Promise<void>;

  constructor(
    private readonly queues: BoxOfficeQueues,
    private readonly env: PodiumEnv,
  ) {
    this.adapter.setBasePath(DASHBOARD_PATH);
    this.board = createBullBoard({
      queues: [],
      serverAdapter: this.adapter,
      options: { uiConfig: { boardTitle: 'podium queues' } },
    });
  }

  /** Mounts the dashboard on the app's Express instance (before init, so it comes before Nest's routes). */
  mount(app: INestApplication): void {
    if (!this.env.OPERATOR_PASSWORD) {
      this.logger.log(
        `Operator endpoints off (${DASHBOARD_PATH}, POST /events, failed orders): set OPERATOR_USER and OPERATOR_PASSWORD to use them`,
      );
    }
    app.use(
      DASHBOARD_PATH,
      operatorAuth(this.env),
      (_req: Request, _res: Response, next: NextFunction) => {
        this.refresh().then(() => next(), next);
      },
      this.adapter.getRouter(),
    );
  }

  /** Shows the current listener queues (at most every REFRESH_MS). */
  refresh(): Promise<void> {
    if (Date.now() - this.refreshedAt < REFRESH_MS) return Promise.resolve();
    this.refreshing ??= this.queues
      .all()
      .then((queues) => {
        const names = queues.map((q) => q.name).join(',');
        if (names !== this.shown) {
          this.board.replaceQueues(
            queues.map(
              ({ queue }) => new BullMQAdapter(queue, { readOnlyMode: false }),
            ),
          );
          this.shown = names;
        }
        this.refreshedAt = Date.now();
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}
