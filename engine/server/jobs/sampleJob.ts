/**
 * `inspect.sample`: text from a GPT run's checkpoint (../../inspect/sample.ts), streamed to the host as it
 * is drawn. Pieces go out as onJobProgress events of at most SAMPLE_LIMITS.streamTokens tokens or
 * streamMs milliseconds, so a fast model does not flood the host and a slow one still streams. A cancel
 * stops the loop after the current token; what streamed stands, and the job ends cancelled.
 */
import { EngineError } from '../../../common/errors';
import { SAMPLE_LIMITS, type SampleResult } from '../../../common/sampling';
import { TextStream, generate } from '../../inspect/sample';
import type { JobContext, JobHandler } from '../job';
import { openRunModelFor } from './sampleRunModel';

/** Collects a sample's text pieces and sends them in bounded batches, each with the sample's progress. */
class SamplePieces {
  private text = '';
  private tokens = 0;
  private lastSent = performance.now();
  private readonly started = performance.now();

  constructor(private readonly ctx: JobContext, private readonly sample: number, private readonly total: number) {}

  add(piece: string, newTokens: number): void {
    this.text += piece;
    this.tokens = newTokens;
    if (newTokens % SAMPLE_LIMITS.streamTokens === 0 || performance.now() - this.lastSent >= SAMPLE_LIMITS.streamMs) this.flush();
  }

  flush(tail = ''): void {
    this.text += tail;
    if (!this.text) return;
    const seconds = Math.max((performance.now() - this.started) / 1000, 1e-9);
    this.ctx.progress(this.tokens, this.total, { message: this.text, metrics: { sample: this.sample, tokensPerSecond: this.tokens / seconds } });
    this.text = '';
    this.lastSent = performance.now();
  }
}

export const inspectSample: JobHandler<'inspect.sample'> = {
  usesDevice: true,
  async run(spec, ctx): Promise<SampleResult> {
    const rm = await openRunModelFor('gpt', spec, ctx);
    try {
      const C = rm.model.config.contextLength;
      if (spec.maxNewTokens > C) {
        throw new EngineError('INVALID_CONFIG', `maxNewTokens ${spec.maxNewTokens} is more than the model's context of ${C} tokens; ask for at most ${C} new tokens`, ['maxNewTokens']);
      }
      const promptIds = rm.tokenizer.encode(spec.prompt);
      if (promptIds.length === 0) throw new EngineError('INVALID_CONFIG', "the prompt has no tokens in this run's vocabulary; give a prompt of at least one token", ['prompt']);
      if (promptIds.length > C) {
        throw new EngineError('INVALID_CONFIG', `the prompt is ${promptIds.length} tokens, longer than the model's context of ${C} tokens; shorten it to at most ${C} tokens`, ['prompt']);
      }
      ctx.log('info', `sampling ${spec.numSamples} × ${spec.maxNewTokens} new tokens after a prompt of ${promptIds.length} tokens from checkpoint ${rm.checkpoint.name} (step ${rm.checkpoint.step}); context ${C} tokens`);
      const samples: SampleResult['samples'] = [];
      for (let s = 0; s < spec.numSamples; s++) {
        await ctx.checkpoint();
        const ids: number[] = [];
        const stream = new TextStream((x) => rm.tokenizer.decode(x));
        const pieces = new SamplePieces(ctx, s, spec.maxNewTokens);
        const seed = spec.seed + s;
        const r = await generate(rm.model, promptIds, {
          maxNewTokens: spec.maxNewTokens, temperature: spec.temperature, topK: spec.topK, topP: spec.topP, seed, signal: ctx.signal,
          onToken: (id) => { ids.push(id); pieces.add(stream.push(ids), ids.length); },
        });
        pieces.flush(stream.end(ids));
        samples.push({ seed, text: rm.tokenizer.decode(r.ids), newTokens: r.ids.length, tokensPerSecond: r.tokensPerSecond });
      }
      // a cancel during the last sample ends the job cancelled, not done with a short text
      await ctx.checkpoint();
      return { checkpoint: { name: rm.checkpoint.name, step: rm.checkpoint.step }, contextLength: C, promptTokens: promptIds.length, maxNewTokens: spec.maxNewTokens, samples };
    } finally {
      rm.model.dispose();
    }
  },
};
