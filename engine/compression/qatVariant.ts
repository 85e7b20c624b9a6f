/**
 * A finished QAT run in int8: the int8 variant of its last checkpoint, written beside it with the QAT's
 * activation mode, keepFloat and (static) the very scales it trained with, and measured beside the QAT
 * run's own base — so PTQ and QAT are two int8 variants of one base, measured the same way.
 */
import type { CompressRunConfig } from '../../common/runConfig';
import { resolveDerivedRun } from '../training/derivedRun';
import { isInt8Run, writeInt8Variant, type Int8VariantOptions, type Int8VariantResult } from './int8Variant';
import type { QatRunConfig } from './qatTask';

export async function writeQatInt8Variant(qatRunDir: string, qat: QatRunConfig, runsDir: string, name: string, opts: Int8VariantOptions = {}): Promise<Int8VariantResult> {
  const { activations, keepFloat, measure } = qat.compress;
  const config = await resolveDerivedRun({ task: 'compress', baseRunDir: qatRunDir, baseCheckpoint: 'last', settings: { method: 'int8', activations, keepFloat, measure } }) as CompressRunConfig;
  if (!isInt8Run(config)) throw new Error('writeQatInt8Variant: the settings did not resolve to an int8 run');
  return writeInt8Variant(config, runsDir, name, { ...opts, reference: { runDir: qat.base.runDir, checkpoint: qat.base.checkpoint } });
}
