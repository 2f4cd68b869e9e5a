import { Module, type DynamicModule } from '@nestjs/common';
import { ExplainHandler, StudyProgressService, workerAppModule } from '@xray/pipeline';
import type { AppConfig, Logger } from '@xray/platform';
import { ExplainProcessor } from './explain/explain.processor';
import { ModelHost } from './model/model-host';

@Module({})
export class ExplainWorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return workerAppModule(ExplainWorkerModule, 'explain-worker', config, logger, {
      modelHost: ModelHost,
      createModelHost: () => new ModelHost(config, logger),
      processor: ExplainProcessor,
      providers: [ExplainHandler, StudyProgressService],
    });
  }
}
