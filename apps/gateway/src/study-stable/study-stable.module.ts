import { Module } from '@nestjs/common';
import { StudyStableHandler } from '@xray/pipeline';
import { StudyStableProcessor } from './study-stable.processor';

@Module({ providers: [StudyStableHandler, StudyStableProcessor] })
export class StudyStableModule {}
