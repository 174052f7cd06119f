// Starts trainer-thread.ts in a worker thread when running as TypeScript under tsx. On Node 20 a worker inherits the
// `--import tsx` flag but not tsx's module hooks, so the first import fails there; this bootstrap then registers tsx
// in the thread and imports it again (as src/engine/pool-thread-boot.mjs does for the engine's threads).
try {
  await import('./trainer-thread.ts');
} catch (error) {
  if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  const { register } = await import('tsx/esm/api');
  register();
  await import('./trainer-thread.ts?tsx');
}
