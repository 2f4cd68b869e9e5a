import { Module } from '@nestjs/common';
import { DicomIngest } from '@xray/dicom';
import { DATA_SOURCE, INFERENCE_QUEUE, LOGGER, OBJECT_STORE } from '@xray/platform';
import { StowController } from './stow.controller';
import { StowService } from './stow.service';

/** DICOMweb STOW-RS; instances enter through the same DicomIngest as the DICOM listener's. */
@Module({
  controllers: [StowController],
  providers: [
    StowService,
    {
      provide: DicomIngest,
      inject: [DATA_SOURCE, OBJECT_STORE, INFERENCE_QUEUE, LOGGER],
      useFactory: (ds, store, inference, logger) => new DicomIngest({ ds, store, inference, logger }),
    },
  ],
})
export class DicomwebModule {}
