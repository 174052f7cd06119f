/** Bytes of an upload, counted on the way: past `limit` the stream fails with PAYLOAD_TOO_LARGE (413). */
import { apiError } from '../../errors.js';

export async function* limitBytes(source: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const bytes of source) {
    total += bytes.byteLength;
    if (total > limit) {
      throw apiError('PAYLOAD_TOO_LARGE', `The upload is larger than the limit of ${limit} bytes`, { limit });
    }
    yield bytes;
  }
}
