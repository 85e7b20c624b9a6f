/** fusedOps.test.ts on the threaded wasm binary: shared memory, XNNPACK threads and the fused kernels' helper thread. */
export {};
process.env.WB_TEST_WASM_THREADS = '2';
await import('./fusedOps.test');
