import { Module } from '@nestjs/common';
import { ExplanationsController } from './explanations.controller';
import { ExplanationsService } from './explanations.service';
import { InstanceImagesService } from './instance-images.service';
import { InstancesController } from './instances.controller';

@Module({
  controllers: [InstancesController, ExplanationsController],
  providers: [InstanceImagesService, ExplanationsService],
})
export class InstancesModule {}
