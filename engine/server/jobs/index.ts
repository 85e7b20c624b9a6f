/** Every job the engine runs, by kind. A new job is a module here and a schema in common/protocol.ts. */
import type { JobHandlers } from '../job';
import { datasetPreview } from './datasetPreview';
import { inspectFillMask } from './fillMaskJob';
import { inspectAttention } from './inspectAttention';
import { modelDescribe } from './modelDescribe';
import { modelImport } from './modelImport';
import { bundleExport } from './bundleExport';
import { derivedStart } from './derivedStart';
import { loraTargetsJob } from './loraTargets';
import { compareMeasure } from './compareMeasure';
import { modelTrainSteps } from './modelTrainSteps';
import { pretrainResume, pretrainStart } from './pretrain';
import { inspectSample } from './sampleJob';
import { torchExport } from './torchExport';

export const JOB_HANDLERS: JobHandlers = {
  'model.describe': modelDescribe,
  'model.trainSteps': modelTrainSteps,
  'pretrain.start': pretrainStart,
  'pretrain.resume': pretrainResume,
  'dataset.preview': datasetPreview,
  'model.import': modelImport,
  'inspect.sample': inspectSample,
  'inspect.fillMask': inspectFillMask,
  'inspect.attention': inspectAttention,
  'bundle.export': bundleExport,
  'derived.start': derivedStart,
  'torch.export': torchExport,
  'finetune.loraTargets': loraTargetsJob,
  'compare.measure': compareMeasure,
};
