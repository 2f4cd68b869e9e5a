import { runWorkerApp } from '@xray/pipeline';
import { ExplainWorkerModule } from './worker.module';

/** The explain worker: the `explain` queue, plus /health and /metrics on PORT. */
runWorkerApp('explain-worker', (config, logger) => ExplainWorkerModule.forRoot(config, logger));
