import { Module } from '@nestjs/common';
import { StudyProgressService, StudyStableHandler } from '@xray/pipeline';
import { StudyStableProcessor } from './study-stable.processor';

// The handler completes the study through StudyProgressService (webhooks, DICOM export).
@Module({ providers: [StudyProgressService, StudyStableHandler, StudyStableProcessor] })
export class StudyStableModule {}
