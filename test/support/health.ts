import type request from 'supertest';
import { waitFor } from '@podium/testing';

/** Polls GET /health/ready until it answers `status`, and returns that answer's body. */
export async function waitForReadiness(
  get: () => request.Test,
  status: 200 | 503,
  timeoutMs = 10_000,
): Promise<Record<string, any>> {
  return waitFor(
    async (): Promise<Record<string, any> | undefined> => {
      const res = await get();
      return res.status === status
        ? (res.body as Record<string, any>)
        : undefined;
    },
    { what: `/health/ready to answer ${status}`, timeoutMs },
  );
}
