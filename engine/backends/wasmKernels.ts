/**
 * Kernels the wasm backend lacks or runs slowly, registered in JS over the wasm heap.
 * (Filled in by the performance work; see PERF-NOTES.)
 */
export function registerWasmKernelPatches(): void {}
