/** Every job the engine runs, by kind. A new job is a module here and a schema in common/protocol.ts. */
import type { JobHandlers } from '../job';
import { datasetPreview } from './datasetPreview';
import { inspectAttention } from './inspectAttention';
import { modelDescribe } from './modelDescribe';
import { modelTrainSteps } from './modelTrainSteps';
import { pretrainResume, pretrainStart } from './pretrain';

export const JOB_HANDLERS: JobHandlers = {
  'model.describe': modelDescribe,
  'model.trainSteps': modelTrainSteps,
  'pretrain.start': pretrainStart,
  'pretrain.resume': pretrainResume,
  'dataset.preview': datasetPreview,
  'inspect.attention': inspectAttention,
};
