// Starts pool-thread.ts in a worker thread when the engine runs as TypeScript under tsx (`tsx …` or
// `node --import tsx …`). On Node 20 a worker inherits those flags but not tsx's module hooks, so importing the
// .ts file fails there; this bootstrap then registers tsx in the thread and imports it again. If the hooks were
// inherited (newer Node), the first import simply works and tsx is not registered twice.
try {
  await import('./pool-thread.ts');
} catch (error) {
  if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  const { register } = await import('tsx/esm/api');
  register();
  // A new URL: the module map remembers the failed import of the plain one.
  await import('./pool-thread.ts?tsx');
}
