import { Module } from '@nestjs/common';
import { ListenersController } from './listeners.controller.js';
import { ListenersService } from './listeners.service.js';

@Module({ controllers: [ListenersController], providers: [ListenersService] })
export class ListenersModule {}
