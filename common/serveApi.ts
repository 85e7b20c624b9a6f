/**
 * The local inference server's HTTP API (`workbench serve`, engine/serve/): OpenAI-style completions for
 * causal models, fill-mask and classification for encoder models. The request schemas are what the server
 * validates; the response schemas are what its clients (tests, the benchmark, the UI) read. A field this
 * server does not implement is refused by name, never silently ignored.
 */
import { z } from 'zod';

/** OpenAI's limit on stop sequences */
export const MAX_STOP_SEQUENCES = 4;
/** choices per completion request; each is one sequence of a batch */
export const MAX_CHOICES = 8;

const Model = z.string().max(200).optional().describe("the served model's id (GET /v1/models); any other is refused");
const Text = z.string().min(1, { message: 'must be a non-empty text' });

export const CompletionRequest = z.object({
  model: Model,
  prompt: Text.describe('the text to continue (one string)'),
  max_tokens: z.number().int().min(1).default(16),
  temperature: z.number().min(0).max(2).default(1).describe('0 = greedy'),
  top_p: z.number().gt(0).max(1).default(1),
  top_k: z.number().int().min(0).default(0).describe('0 = all tokens'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional().describe('the same seed, the same text; default: a fresh one'),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(MAX_STOP_SEQUENCES)]).optional(),
  n: z.number().int().min(1).max(MAX_CHOICES).default(1),
  stream: z.boolean().default(false),
  user: z.string().max(200).optional(),
}).strict();
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const FinishReason = z.enum(['stop', 'length']);

export const CompletionChoice = z.object({
  text: z.string(),
  index: z.number().int(),
  logprobs: z.null(),
  finish_reason: FinishReason.nullable(),
}).strict();

export const Usage = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }).strict();

export const CompletionResponse = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(CompletionChoice),
  usage: Usage,
}).strict();
export type CompletionResponse = z.infer<typeof CompletionResponse>;

/** One server-sent event of a streamed completion (`data: {…}`); the stream ends with `data: [DONE]`. */
export const CompletionChunk = CompletionResponse.omit({ usage: true }).strict();
export type CompletionChunk = z.infer<typeof CompletionChunk>;

export const FillMaskRequest = z.object({
  model: Model,
  input: Text.describe('a text with one or more [MASK] tokens'),
  pair: Text.optional().describe('a second segment (token type 1)'),
  top_k: z.number().int().min(1).max(100).default(5),
}).strict();
export type FillMaskRequest = z.infer<typeof FillMaskRequest>;

export const FillMaskResponse = z.object({
  object: z.literal('fill_mask'),
  model: z.string(),
  masks: z.array(z.object({
    position: z.number().int(),
    candidates: z.array(z.object({ token: z.string(), id: z.number().int(), probability: z.number() }).strict()),
  }).strict()),
}).strict();

export const ClassifyRequest = z.object({ model: Model, input: Text, pair: Text.optional() }).strict();
export type ClassifyRequest = z.infer<typeof ClassifyRequest>;

export const ClassifyResponse = z.object({
  object: z.literal('classification'),
  model: z.string(),
  label: z.number().int(),
  probabilities: z.array(z.number()),
}).strict();

export const ModelCard = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  arch: z.enum(['gpt', 'bert']),
  checkpoint: z.string(),
  context_length: z.number().int(),
  endpoints: z.array(z.string()),
}).strict();
export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelCard) }).strict();

export const Health = z.object({
  status: z.literal('ok'),
  model: z.string(),
  queued: z.number().int(),
  active: z.number().int(),
  max_queue: z.number().int(),
  max_batch: z.number().int(),
  tokens_generated: z.number().int(),
  batches: z.number().int(),
}).strict();
export type Health = z.infer<typeof Health>;

/** Every refusal, OpenAI's shape: `param` names the request field when one is at fault. */
export const ApiError = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }).strict(),
}).strict();
export type ApiError = z.infer<typeof ApiError>;

/** What `workbench serve --json` prints first (and the workbench's Serve button shows): where the server listens and how to call it. */
export const ServeStarted = z.object({
  url: z.string(),
  token: z.string(),
  /** GET /health with the token in the query: a link that works in a browser */
  health: z.string(),
  model: z.string(),
  checkpoint: z.string(),
  /** a request to try, token included */
  curl: z.string(),
}).strict();
export type ServeStarted = z.infer<typeof ServeStarted>;
