import { Module } from '@nestjs/common';
import { StudiesController } from './studies.controller';
import { StudiesService } from './studies.service';
import { QueueSweeper } from './queue-sweeper';
import { StorageSweeper } from './storage-sweeper';
import { UploadService } from './upload.service';

@Module({
  controllers: [StudiesController],
  providers: [StudiesService, UploadService, QueueSweeper, StorageSweeper],
})
export class StudiesModule {}
