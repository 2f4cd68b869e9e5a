import { Module } from '@nestjs/common';
import { StudyProgressService, StudyStableHandler } from '@xray/pipeline';
import { StudyStableProcessor } from './study-stable.processor';

@Module({ providers: [StudyProgressService, StudyStableHandler, StudyStableProcessor] })
export class StudyStableModule {}
