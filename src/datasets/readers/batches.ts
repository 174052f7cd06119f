/**
 * Reads an object-mode stream a batch at a time: everything it has buffered, then waits for more. One await per batch
 * instead of one per record keeps the per-row cost (and garbage) of a large upload low.
 */
import type { Readable } from 'node:stream';

export async function* readBatches<T>(stream: Readable): AsyncGenerator<T[]> {
  try {
    for (;;) {
      const batch: T[] = [];
      for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null) batch.push(item);
      if (batch.length > 0) yield batch;
      else if (!(await more(stream))) return;
    }
  } finally {
    if (!stream.destroyed) stream.destroy();
  }
}

/** Waits until the stream has something to read (true) or has ended (false); rejects when it fails or is cut off. */
function more(stream: Readable): Promise<boolean> {
  if (stream.errored) return Promise.reject(stream.errored);
  if (stream.readableEnded) return Promise.resolve(false);
  if (stream.destroyed) return Promise.reject(new Error('the stream was closed before its end'));
  return new Promise((resolve, reject) => {
    const settle = (then: () => void) => () => {
      stream.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose);
      then();
    };
    const onReadable = settle(() => resolve(true));
    const onEnd = settle(() => resolve(false));
    const onError = (error: Error) => settle(() => reject(error))();
    const onClose = settle(() => (stream.readableEnded ? resolve(false) : reject(stream.errored ?? new Error('the stream was closed before its end'))));
    stream.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
