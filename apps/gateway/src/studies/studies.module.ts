import { Module } from '@nestjs/common';
import { StudiesController } from './studies.controller';
import { StudiesService } from './studies.service';
import { QueueSweeper } from './queue-sweeper';
import { UploadService } from './upload.service';

@Module({ controllers: [StudiesController], providers: [StudiesService, UploadService, QueueSweeper] })
export class StudiesModule {}
