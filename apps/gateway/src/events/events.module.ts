import { Module } from '@nestjs/common';
import { EventsController, StatusEventsListener } from './events.controller';
import { StatusBus } from './status-bus';

@Module({ controllers: [StatusEventsListener, EventsController], providers: [StatusBus] })
export class EventsModule {}
