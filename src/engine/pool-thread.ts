/**
 * Entry point of one engine pool thread (started by pool.ts through thread-entry.ts).
 * Instantiates the kernel over the shared memory (and the native GEMM, when the context runs it), says 'ready', then
 * runs chunks of each published job until stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateGemm } from './kernels/gemm-wasm.js';
import { withNativeGemm } from './kernels/native-gemm.js';
import { controlOver } from './pool-protocol.js';
import { serveJobs, type PoolThreadData, type ThreadMessage } from './pool-thread-loop.js';

const data = workerData as PoolThreadData;
const post = (message: ThreadMessage): void => parentPort!.postMessage(message);
try {
  const wasm = instantiateGemm(data.kernel, data.memory);
  const kernel = data.native ? withNativeGemm(wasm, data.native, data.memory) : wasm;
  post({ type: 'ready' });
  serveJobs(controlOver(data.control), kernel, data);
} catch (error) {
  post({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  throw error;
}
