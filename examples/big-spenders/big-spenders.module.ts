import { Module } from '@nestjs/common';
import { BigSpendersListener } from './big-spenders.listener.js';

@Module({ providers: [BigSpendersListener] })
export class BigSpendersModule {}
