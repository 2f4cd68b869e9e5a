import { Module } from '@nestjs/common';
import { DicomExportHandler, StudyObjectsBuilder } from '@xray/pipeline';
import { DicomExportProcessor } from './dicom-export.processor';
import { DicomExportsController } from './dicom-exports.controller';
import { DicomObjectsController } from './dicom-objects.controller';

/** DICOM results: the export log and retry, the objects themselves, and the export queue's worker. */
@Module({
  controllers: [DicomExportsController, DicomObjectsController],
  providers: [StudyObjectsBuilder, DicomExportHandler, DicomExportProcessor],
})
export class DicomExportsModule {}
