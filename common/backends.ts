import { z } from 'zod';

/**
 * The compute backends the engine can run on, best first. `auto` picks the first one present.
 * Names are the user's words; the engine maps them to TensorFlow.js backends and packages.
 */
export const BACKEND_PREFERENCE = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export const BackendName = z.enum(BACKEND_PREFERENCE);
export type BackendName = z.infer<typeof BackendName>;
export const BackendRequest = z.union([z.literal('auto'), BackendName]);
export type BackendRequest = z.infer<typeof BackendRequest>;

/** What every result states about where it was computed. */
export const BackendInfo = z.object({
  name: BackendName,
  /** the TensorFlow.js backend it registered as ('tensorflow', 'wasm', 'cpu') */
  tfBackend: z.string(),
  /** the npm package that provides it and that package's version */
  package: z.string(),
  version: z.string(),
  /** e.g. 'CUDA GPU', or the CPU model with its ISA extensions */
  device: z.string(),
  threads: z.number().int().positive(),
  /** wasm only: whether SIMD is in use */
  simd: z.boolean().optional(),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

/** How a user installs each backend's package; shown when they ask for one that is absent. */
export const BACKEND_INSTALL_HINT: Record<BackendName, string> = {
  'node-gpu': 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs CUDA 11.2 + cuDNN 8.1 and network access to download libtensorflow)',
  node: 'npm install @tensorflow/tfjs-node@4.22.0 (its install step downloads libtensorflow, so it needs network access)',
  wasm: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
  cpu: 'npm install @tensorflow/tfjs-backend-cpu@4.22.0',
};
