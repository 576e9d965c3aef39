import { Module } from '@nestjs/common';
import { OlympicsSettingsModule } from '@podium/orders';
import { SalesHistogramListener } from './sales-histogram.listener.js';

@Module({
  imports: [OlympicsSettingsModule],
  providers: [SalesHistogramListener],
})
export class SalesHistogramModule {}
