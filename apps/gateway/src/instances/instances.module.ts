import { Module } from '@nestjs/common';
import { InstanceImagesService } from './instance-images.service';
import { InstancesController } from './instances.controller';

@Module({ controllers: [InstancesController], providers: [InstanceImagesService] })
export class InstancesModule {}
