import {
  Controller,
  Get,
  NotFoundException,
  Param,
  Res,
  ServiceUnavailableException,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import {
  DASHBOARD_ASSETS,
  DASHBOARD_PAGE,
  LIVE_DASHBOARD_PATH,
  PAGE_SECURITY_HEADERS,
} from './dashboard-assets.js';
import type { DashboardSnapshot } from './dashboard-snapshot.js';
import { DashboardSnapshotService } from './dashboard-snapshot.service.js';
import { LiveUpdatesService } from './live-updates.service.js';

/** The live dashboard: its page and assets, its snapshot, and the stream of snapshots (Server-Sent Events). */
@ApiExcludeController()
@Controller(LIVE_DASHBOARD_PATH.slice(1))
export class LiveDashboardController {
  constructor(
    private readonly snapshots: DashboardSnapshotService,
    private readonly live: LiveUpdatesService,
  ) {}

  @Get()
  page(@Res() res: Response): void {
    send(res, DASHBOARD_PAGE);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const path = Object.hasOwn(DASHBOARD_ASSETS, file)
      ? DASHBOARD_ASSETS[file]
      : undefined;
    if (!path) throw new NotFoundException(`no dashboard asset "${file}"`);
    send(res, path);
  }

  /** What the page shows, once (for scripts and curl). */
  @Get('snapshot')
  snapshot(): Promise<DashboardSnapshot> {
    return this.snapshots.read();
  }

  @Sse('stream')
  stream(@Res({ passthrough: true }) res: Response): Observable<MessageEvent> {
    if (this.live.closed) {
      // Stopping: a page reconnecting over a kept-alive connection gets no new stream, and the
      // connection closes, so the server's stop does not wait for it (a 503 also stops EventSource's own retries).
      res.set('Connection', 'close');
      throw new ServiceUnavailableException('the box office is stopping');
    }
    // The stream ends when the app stops; its connection is then closed too, rather than kept
    // alive for the page's reconnection while the server's stop waits for it.
    const socket = res.socket;
    res.once('finish', () => this.live.closed && socket?.destroy());
    return this.live.updates();
  }
}

function send(res: Response, path: string): void {
  res.set(PAGE_SECURITY_HEADERS);
  res.sendFile(path, { cacheControl: false }, (err) => {
    if (err && !res.headersSent)
      res
        .status(404)
        .json({ statusCode: 404, message: 'not found', error: 'Not Found' });
  });
}
