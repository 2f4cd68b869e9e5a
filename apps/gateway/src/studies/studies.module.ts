import { Module } from '@nestjs/common';
import { StudiesController } from './studies.controller';
import { QueueSweeper, StudyIngestService } from '@xray/pipeline';
import { StudiesService } from './studies.service';
import { UploadService } from './upload.service';

@Module({
  controllers: [StudiesController],
  providers: [StudiesService, UploadService, StudyIngestService, QueueSweeper],
})
export class StudiesModule {}
