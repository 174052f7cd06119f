// Starts a TypeScript worker-thread entry (its URL is the thread's last argv, set by ./thread-entry.ts) when running
// under tsx (`tsx …` or `node --import tsx …`). On Node 20 a worker inherits those flags but not tsx's module hooks,
// so importing the .ts file fails there; this bootstrap then registers tsx in the thread and imports it again. If the
// hooks were inherited (newer Node), the first import simply works and tsx is not registered twice.
const entry = process.argv.at(-1);
try {
  await import(entry);
} catch (error) {
  if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  const { register } = await import('tsx/esm/api');
  register();
  // A new URL: the module map remembers the failed import of the plain one.
  await import(`${entry}?tsx`);
}
