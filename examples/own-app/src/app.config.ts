import { Injectable } from '@nestjs/common';

/** The app's own configuration (with @nestjs/config it would be its ConfigService). */
@Injectable()
export class AppConfig {
  readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}
