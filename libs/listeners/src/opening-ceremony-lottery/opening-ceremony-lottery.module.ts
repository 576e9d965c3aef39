import { Module } from '@nestjs/common';
import { OpeningCeremonyLotteryListener } from './opening-ceremony-lottery.listener.js';

@Module({ providers: [OpeningCeremonyLotteryListener] })
export class OpeningCeremonyLotteryModule {}
