import { Global, Module } from '@nestjs/common';
import { DrainingGate } from './draining-gate.js';

@Global()
@Module({ providers: [DrainingGate], exports: [DrainingGate] })
export class ShutdownModule {}
