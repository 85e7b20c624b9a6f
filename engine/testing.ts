/** Helpers shared by the engine's tests. */
import { selectBackend } from './backends/select';
import type { BackendName } from '../common/backends';

/** The backends every numerics test runs on: both are always installed, and together they cover JS and wasm kernels. */
export const TEST_BACKENDS: BackendName[] = ['cpu', 'wasm'];

export async function useBackend(name: BackendName): Promise<void> {
  await selectBackend(name);
}
