import { Module } from '@nestjs/common';
import { QueueSweeper, StorageSweeper, StudyIngestService } from '@xray/pipeline';
import { StudiesController } from './studies.controller';
import { StudiesService } from './studies.service';
import { UploadService } from './upload.service';

@Module({
  controllers: [StudiesController],
  providers: [StudiesService, UploadService, StudyIngestService, QueueSweeper, StorageSweeper],
})
export class StudiesModule {}
