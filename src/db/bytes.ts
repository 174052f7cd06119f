/** Prisma's Bytes fields take a Uint8Array over a plain ArrayBuffer; Node Buffers and typed-array views may not be. */
export function toBytes(view: ArrayBufferView): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return copy;
}
