import { Module } from '@nestjs/common';
import { SalesHistogramListener } from './sales-histogram.listener.js';

@Module({ providers: [SalesHistogramListener] })
export class SalesHistogramModule {}
