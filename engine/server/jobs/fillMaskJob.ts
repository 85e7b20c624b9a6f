/** `inspect.fillMask`: the top-k tokens and probabilities at each [MASK] of a text, from a BERT run's checkpoint. */
import type { FillMaskResult } from '../../../common/sampling';
import { encodeInput } from '../../inspect/attentionMaps';
import { fillMask } from '../../inspect/fillMask';
import type { JobHandler } from '../job';
import { openRunModelFor } from './sampleRunModel';

export const inspectFillMask: JobHandler<'inspect.fillMask'> = {
  usesDevice: true,
  async run(spec, ctx): Promise<FillMaskResult> {
    const rm = await openRunModelFor('bert', spec, ctx);
    try {
      const input = encodeInput(rm.tokenizer, rm.model.config, spec.text, spec.pair);
      await ctx.checkpoint();
      const masks = fillMask(rm.model, rm.tokenizer, input, spec.topK);
      return { checkpoint: { name: rm.checkpoint.name, step: rm.checkpoint.step }, tokens: input.tokens, masks };
    } finally {
      rm.model.dispose();
    }
  },
};
