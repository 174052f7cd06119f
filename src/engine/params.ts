/**
 * The parameter table (llm.c `param_sizes` style): every parameter of a network lives in ONE buffer, every gradient in
 * another of the same layout, and optimizer state buffers mirror it too. Layers work on views (subarray) of them.
 *
 * In the buffer each tensor starts on a 4-float (16-byte) boundary, so views are as aligned as the buffer itself; the
 * gaps are zeros and stay zeros (their gradient is 0). The *packed* form puts the tensors back to back, in the same
 * order — that is what weights are exported and state is saved in, so neither depends on the padding.
 *
 * Order: layer by layer in forward order; within a layer W (inputs × outputs, row-major), then b, then PReLU α.
 */
import { view, type Real } from './backend.js';
import type { LayerPlan, ParamRole } from './spec.js';

const ALIGN = 4;

export interface ParamEntry {
  /** `${layer}.W`, `${layer}.b` or `${layer}.alpha`. */
  name: string;
  layer: string;
  role: ParamRole;
  rows: number;
  cols: number;
  /** rows·cols */
  size: number;
  /** Start in the network's (padded) parameter buffer. */
  offset: number;
  /** Start in the packed form. */
  packedOffset: number;
}

export interface ParamLayout {
  entries: ParamEntry[];
  /** Number of parameters (Σ size): the length of the packed form. */
  parameterCount: number;
  /** Length of the padded buffer. */
  bufferLength: number;
}

const SHORT: Record<ParamRole, string> = { weight: 'W', bias: 'b', alpha: 'alpha' };

export function layoutParams(plans: readonly LayerPlan[]): ParamLayout {
  const entries: ParamEntry[] = [];
  let offset = 0;
  let packedOffset = 0;
  for (const plan of plans) {
    for (const p of plan.params) {
      const size = p.rows * p.cols;
      entries.push({ name: `${plan.name}.${SHORT[p.role]}`, layer: plan.name, role: p.role, rows: p.rows, cols: p.cols, size, offset, packedOffset });
      offset += Math.ceil(size / ALIGN) * ALIGN;
      packedOffset += size;
    }
  }
  return { entries, parameterCount: packedOffset, bufferLength: Math.max(offset, ALIGN) };
}

/** The entry named `name`; throws if absent. */
export function entry(layout: ParamLayout, name: string): ParamEntry {
  const e = layout.entries.find((x) => x.name === name);
  if (!e) throw new Error(`no parameter ${name}`);
  return e;
}

/** The view of entry `e` in a buffer of this layout (parameters, gradients or optimizer state). */
export function entryView<T extends Real>(buffer: T, e: ParamEntry): T {
  return view(buffer, e.offset, e.offset + e.size);
}

/** Copies a padded buffer into its packed form. */
export function pack(buffer: Real, layout: ParamLayout, out: Real): void {
  for (const e of layout.entries) out.set(buffer.subarray(e.offset, e.offset + e.size), e.packedOffset);
}

/** Copies a packed form into a padded buffer (the gaps are left as they are: zero). */
export function unpack(packed: Real, layout: ParamLayout, buffer: Real): void {
  if (packed.length !== layout.parameterCount) throw new RangeError(`expected ${layout.parameterCount} values, got ${packed.length}`);
  for (const e of layout.entries) buffer.set(packed.subarray(e.packedOffset, e.packedOffset + e.size), e.offset);
}

/** Whether two layouts have the same tensors (names and shapes) in the same order. */
export function sameLayout(a: ParamLayout, b: ParamLayout): boolean {
  return a.entries.length === b.entries.length
    && a.entries.every((e, i) => e.name === b.entries[i].name && e.rows === b.entries[i].rows && e.cols === b.entries[i].cols);
}
