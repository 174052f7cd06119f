/**
 * A small binary container for engine state (network checkpoints): a JSON header plus raw little-endian float arrays,
 * so parameters and optimizer buffers round-trip bit-exactly and the whole state is one byte string (one write).
 *
 * Layout:
 *   bytes 0–3   magic "TYST"
 *   bytes 4–7   format version (u32 LE), currently 1
 *   bytes 8–11  J, byte length of the JSON header (u32 LE)
 *   12 … 12+J   UTF-8 JSON {"meta": <caller's header>, "sections": [{"name", "dtype": "f32"|"f64", "length"}…]},
 *               padded with spaces so the data starts on an 8-byte boundary
 *   then each section's values in order, each starting on an 8-byte boundary
 */

export type FloatArray = Float32Array | Float64Array;

export interface Section {
  name: string;
  data: FloatArray;
}

interface SectionHeader {
  name: string;
  dtype: 'f32' | 'f64';
  length: number;
}

const MAGIC = [0x54, 0x59, 0x53, 0x54]; // "TYST"
const VERSION = 1;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('engine state encoding needs a little-endian platform');
}

export function encodeState(meta: unknown, sections: readonly Section[]): Uint8Array<ArrayBuffer> {
  assertLittleEndian();
  const headers: SectionHeader[] = sections.map((s) => ({ name: s.name, dtype: s.data instanceof Float64Array ? 'f64' : 'f32', length: s.data.length }));
  let json = new TextEncoder().encode(JSON.stringify({ meta, sections: headers }));
  const dataStart = align8(12 + json.length);
  const padded = new Uint8Array(dataStart - 12).fill(0x20);
  padded.set(json);
  json = padded;
  let total = dataStart;
  for (const s of sections) total = align8(total) + s.data.byteLength;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = dataStart;
  for (const s of sections) {
    at = align8(at);
    out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength), at);
    at += s.data.byteLength;
  }
  return out;
}

export interface DecodedState {
  meta: unknown;
  sections: Map<string, FloatArray>;
}

export function decodeState(bytes: Uint8Array): DecodedState {
  assertLittleEndian();
  const fail = (why: string): never => {
    throw new Error(`not a valid engine state: ${why}`);
  };
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m)) fail('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) fail(`unsupported version ${version}`);
  const jsonLength = dv.getUint32(8, true);
  if (12 + jsonLength > bytes.length) fail('truncated header');
  let parsed: { meta: unknown; sections: SectionHeader[] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as typeof parsed;
  } catch {
    return fail('unreadable header');
  }
  if (!Array.isArray(parsed.sections)) fail('no section table');
  const sections = new Map<string, FloatArray>();
  let at = 12 + jsonLength;
  for (const s of parsed.sections) {
    const width = s.dtype === 'f64' ? 8 : s.dtype === 'f32' ? 4 : fail(`section ${s.name}: unknown dtype`);
    if (!Number.isSafeInteger(s.length) || s.length < 0) fail(`section ${s.name}: bad length`);
    at = align8(at);
    const end = at + s.length * width;
    if (end > bytes.length) fail(`section ${s.name} is truncated`);
    const copy = bytes.slice(at, end).buffer;
    sections.set(s.name, width === 8 ? new Float64Array(copy) : new Float32Array(copy));
    at = end;
  }
  if (at !== bytes.length) fail(`${bytes.length - at} trailing bytes`);
  return { meta: parsed.meta, sections };
}
