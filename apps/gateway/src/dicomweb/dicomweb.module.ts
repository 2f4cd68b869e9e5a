import { Module } from '@nestjs/common';
import { DicomIngestService, StudyIngestService } from '@xray/pipeline';
import { StowController } from './stow.controller';
import { StowService } from './stow.service';

/** DICOMweb STOW-RS; instances enter through the same DicomIngestService as the DICOM listener's. */
@Module({
  controllers: [StowController],
  providers: [StowService, StudyIngestService, DicomIngestService],
})
export class DicomwebModule {}
