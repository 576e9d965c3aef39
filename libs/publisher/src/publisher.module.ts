import { Module } from '@nestjs/common';
import { OrderPublisher } from './order-publisher.js';

/** Needs PodiumConfigModule and RedisModule (both global) in the app. */
@Module({ providers: [OrderPublisher], exports: [OrderPublisher] })
export class PublisherModule {}
