// Starts service-fanout-clients.ts in a worker thread under tsx: on Node 20 a worker does not inherit tsx's module
// hooks, so register them here first (see src/engine/pool-thread-boot.mjs for the same dance).
try {
  await import('./service-fanout-clients.ts');
} catch (error) {
  if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  const { register } = await import('tsx/esm/api');
  register();
  await import('./service-fanout-clients.ts?tsx');
}
