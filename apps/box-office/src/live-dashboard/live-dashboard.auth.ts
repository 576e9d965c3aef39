import type { NextFunction, Request, Response } from 'express';
import type { PodiumEnv } from '@podium/config';
import { basicAuth } from '@podium/observability';

/**
 * Who may see the live dashboard: the operator pages' credentials, today the queue
 * dashboard's (DASHBOARD_USER, DASHBOARD_PASSWORD). The one place that decides it. Without
 * a password the dashboard is not served, like /queues.
 */
export function liveDashboardAuth(env: PodiumEnv) {
  if (!env.DASHBOARD_PASSWORD) return notServed;
  return basicAuth({ user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD, realm: 'podium dashboard' });
}

function notServed(_req: Request, res: Response, _next: NextFunction): void {
  res.status(404).json({ statusCode: 404, message: 'the dashboard is off: set DASHBOARD_PASSWORD to serve it', error: 'Not Found' });
}
