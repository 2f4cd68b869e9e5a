import { Module, type DynamicModule } from '@nestjs/common';
import { InferenceHandler, StudyProgressService, workerAppModule } from '@xray/pipeline';
import type { AppConfig, Logger } from '@xray/platform';
import { InferenceProcessor } from './inference/inference.processor';
import { ModelHost } from './model/model-host';

@Module({})
export class InferenceWorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return workerAppModule(InferenceWorkerModule, 'inference-worker', config, logger, {
      modelHost: ModelHost,
      createModelHost: () => new ModelHost(config, logger),
      processor: InferenceProcessor,
      providers: [InferenceHandler, StudyProgressService],
    });
  }
}
