/**
 * Loaded before engine/main.ts by a test (`--import`), never by the product: on SIGUSR2 it throws from a
 * timer and rejects a promise nobody awaits, as buggy job code could, to prove the engine survives both.
 */
process.on('SIGUSR2', () => {
  setTimeout(() => { throw new Error('fault injected by a test: thrown in a timer'); }, 0);
  void Promise.reject(new Error('fault injected by a test: a rejection nobody handled'));
});
