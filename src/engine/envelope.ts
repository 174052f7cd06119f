/**
 * The binary envelope shared by the engine's state (state-codec.ts) and job checkpoints (src/training):
 *
 *   bytes 0–3   magic (4 ASCII characters naming the format)
 *   bytes 4–7   format version (u32 LE)
 *   bytes 8–11  J, byte length of the JSON header (u32 LE)
 *   12 … 12+J   UTF-8 JSON header, padded with spaces so the body starts on a multiple of `align`
 *   then        the body (the format's own bytes)
 */

export interface Envelope {
  header: unknown;
  /** Offset of the body in the decoded bytes. */
  bodyStart: number;
}

function magicBytes(magic: string): number[] {
  if (!/^[\x20-\x7e]{4}$/.test(magic)) throw new Error(`envelope magic must be 4 ASCII characters: ${magic}`);
  return [...magic].map((c) => c.charCodeAt(0));
}

/** Bytes with the header written and `bodyLength` bytes left for the caller to fill from `bodyStart`. */
export function encodeEnvelope(magic: string, version: number, header: unknown, bodyLength: number, align = 1): { bytes: Uint8Array<ArrayBuffer>; bodyStart: number } {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = Math.ceil((12 + json.length) / align) * align;
  const bytes = new Uint8Array(bodyStart + bodyLength);
  bytes.set(magicBytes(magic), 0);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(4, version, true);
  dv.setUint32(8, bodyStart - 12, true);
  bytes.set(json, 12);
  bytes.fill(0x20, 12 + json.length, bodyStart);
  return { bytes, bodyStart };
}

/** Checks magic, version and header; errors read `not a valid <what>: <why>`. */
export function decodeEnvelope(bytes: Uint8Array, magic: string, version: number, what: string): Envelope {
  const fail = (why: string): never => {
    throw new Error(`not a valid ${what}: ${why}`);
  };
  if (bytes.length < 12 || magicBytes(magic).some((m, i) => bytes[i] !== m)) fail('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = dv.getUint32(4, true);
  if (found !== version) fail(`unsupported version ${found}`);
  const jsonLength = dv.getUint32(8, true);
  if (12 + jsonLength > bytes.length) fail('truncated header');
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as unknown, bodyStart: 12 + jsonLength };
  } catch {
    return fail('unreadable header');
  }
}
