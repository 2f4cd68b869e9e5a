import { runWorkerApp } from '@xray/pipeline';
import { InferenceWorkerModule } from './worker.module';

/** The inference worker: the `inference` queue, plus /health and /metrics on PORT. */
runWorkerApp('inference-worker', (config, logger) => InferenceWorkerModule.forRoot(config, logger));
