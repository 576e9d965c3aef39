import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AnnouncementTransport } from '@podium/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
// The listeners subscribe through podium's Redis transport, the app's microservice. They are
// bound as the app initialises, so init comes before the transport starts listening.
app.connectMicroservice({ strategy: app.get(AnnouncementTransport) });
await app.init();
await app.startAllMicroservices();
await app.listen(3000);
