/**
 * A small binary container for engine state (network checkpoints): a JSON header plus raw little-endian float arrays,
 * so parameters and optimizer buffers round-trip bit-exactly and the whole state is one byte string (one write).
 *
 * Layout: the envelope of ./envelope.ts with magic "TYST", version 1, and
 *   header  {"meta": <caller's header>, "sections": [{"name", "dtype": "f32"|"f64", "length"}…]}, padded so the
 *           data starts on an 8-byte boundary
 *   body    each section's values in order, each starting on an 8-byte boundary
 */
import { decodeEnvelope, encodeEnvelope } from './envelope.js';

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

const MAGIC = 'TYST';
const VERSION = 1;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('engine state encoding needs a little-endian platform');
}

export function encodeState(meta: unknown, sections: readonly Section[]): Uint8Array<ArrayBuffer> {
  assertLittleEndian();
  const headers: SectionHeader[] = sections.map((s) => ({ name: s.name, dtype: s.data instanceof Float64Array ? 'f64' : 'f32', length: s.data.length }));
  let bodyLength = 0;
  for (const s of sections) bodyLength = align8(bodyLength) + s.data.byteLength;
  const { bytes, bodyStart } = encodeEnvelope(MAGIC, VERSION, { meta, sections: headers }, bodyLength, 8);
  let at = bodyStart;
  for (const s of sections) {
    at = align8(at);
    bytes.set(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength), at);
    at += s.data.byteLength;
  }
  return bytes;
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
  const envelope = decodeEnvelope(bytes, MAGIC, VERSION, 'engine state');
  const parsed = (envelope.header ?? {}) as { meta: unknown; sections: SectionHeader[] };
  if (!Array.isArray(parsed.sections)) fail('no section table');
  const sections = new Map<string, FloatArray>();
  let at = envelope.bodyStart;
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
