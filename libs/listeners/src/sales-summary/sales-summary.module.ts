import { Module } from '@nestjs/common';
import { SalesSummaryListener } from './sales-summary.listener.js';

@Module({ providers: [SalesSummaryListener] })
export class SalesSummaryModule {}
