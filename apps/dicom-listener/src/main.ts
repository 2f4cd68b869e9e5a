import { runWorkerApp } from '@xray/pipeline';
import { DicomListenerModule } from './listener.module';

/** The DICOM listener: DIMSE C-ECHO / C-STORE on DICOM_PORT, plus /health and /metrics on PORT. */
runWorkerApp('dicom-listener', (config, logger) => DicomListenerModule.forRoot(config, logger));
