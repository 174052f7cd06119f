/** Request and response schemas of /v1/datasets, and the JSON form of a dataset. */
import { Type, type Static } from 'typebox';
import type { DatasetSummary } from '../../datasets/queries.js';
import { categoricalSummary } from '../../datasets/encoding.js';
import type { DatasetMeta } from '../../datasets/types.js';
import type { SyntheticKind } from '../../datasets/synthetic/index.js';

const Stats = Type.Object({ mean: Type.Number(), std: Type.Number(), min: Type.Number(), max: Type.Number() });

/** A text column, one-hot encoded into one feature per category (src/datasets/encoding.ts). */
export const CategoricalColumnSchema = Type.Object({
  column: Type.String(),
  /** Learned at upload from every row; ordered like class names (numbers ascending, otherwise natural order). */
  categories: Type.Array(Type.String()),
  /** The stored features it became, `column=category`, in the order of `categories`. */
  features: Type.Array(Type.String()),
});

/** What the upload's `missing` option did. */
export const MissingSummarySchema = Type.Object({
  strategy: Type.Union([Type.Literal('error'), Type.Literal('mean'), Type.Literal('median'), Type.Literal('drop-row')]),
  droppedRows: Type.Integer(),
  /** Columns with imputed cells: how many, and the value used (mean/median, or the most frequent category). */
  imputed: Type.Array(Type.Object({ column: Type.String(), cells: Type.Integer(), value: Type.Union([Type.Number(), Type.String()]) })),
});

export const DatasetSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  source: Type.Union([Type.Literal('csv'), Type.Literal('json'), Type.Literal('synthetic'), Type.Literal('example')]),
  sourceParams: Type.Record(Type.String(), Type.Unknown()),
  task: Type.Union([Type.Literal('classification'), Type.Literal('regression')]),
  rows: Type.Integer(),
  features: Type.Integer(),
  featureNames: Type.Array(Type.String()),
  targetName: Type.String(),
  classNames: Type.Array(Type.String()),
  classCounts: Type.Array(Type.Integer()),
  stats: Type.Array(Stats),
  targetStats: Type.Union([Stats, Type.Null()]),
  byteSize: Type.Integer(),
  contentHash: Type.String(),
  chunkCount: Type.Integer(),
  /** Text columns and their one-hot features; [] when every column is numeric. */
  categoricalColumns: Type.Array(CategoricalColumnSchema),
  missing: MissingSummarySchema,
  createdAt: Type.String({ format: 'date-time' }),
});
export type DatasetJson = Static<typeof DatasetSchema>;

export const DatasetSummarySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  source: DatasetSchema.properties.source,
  task: DatasetSchema.properties.task,
  rows: Type.Integer(),
  features: Type.Integer(),
  /** Number of classes; 0 for regression. */
  classes: Type.Integer(),
  byteSize: Type.Integer(),
  contentHash: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type DatasetSummaryJson = Static<typeof DatasetSummarySchema>;

export const DatasetListSchema = Type.Object({
  items: Type.Array(DatasetSummarySchema),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export const RowsQuery = Type.Object({
  offset: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
});

export const RowsSchema = Type.Object({
  offset: Type.Integer(),
  /** Rows in the dataset. */
  total: Type.Integer(),
  featureNames: Type.Array(Type.String()),
  targetName: Type.String(),
  items: Type.Array(
    Type.Object({
      /** 0-based row index. */
      row: Type.Integer(),
      /** The stored float32 features. */
      x: Type.Array(Type.Number()),
      /** Class index (classification) or value (regression). */
      y: Type.Number(),
      /** The class name (classification); null for regression. */
      label: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

/** Upload options, as query parameters (raw bodies) or form fields before the file (multipart). See upload-options.ts. */
export const UploadQuery = Type.Object({
  name: Type.Optional(Type.String()),
  header: Type.Optional(Type.String()),
  delimiter: Type.Optional(Type.String()),
  target: Type.Optional(Type.String()),
  task: Type.Optional(Type.String()),
  format: Type.Optional(Type.String()),
  missing: Type.Optional(Type.String()),
});

const Name = Type.String({ minLength: 1, maxLength: 200 });

export const SyntheticBody = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('spiral'),
      Type.Literal('circles'),
      Type.Literal('xor'),
      Type.Literal('moons'),
      Type.Literal('blobs'),
      Type.Literal('sine'),
    ]),
    /** Points per class (classification) or in all (sine). Default 100 (sine 200). */
    n: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Classes; spiral/blobs/circles only (xor and moons make 2, sine is regression). */
    classes: Type.Optional(Type.Integer({ minimum: 2 })),
    /** Noise scale; see each generator. */
    noise: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** 32-bit unsigned seed. Default: random, and returned in sourceParams.seed. */
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    name: Type.Optional(Name),
  },
  // Not `false`: Fastify's Ajv would silently drop unknown members; this refuses them (a typo is an error).
  { additionalProperties: Type.Never() },
);
export type SyntheticBodyJson = Static<typeof SyntheticBody>;
// Compile-time check: the literals above name exactly the kinds of SYNTHETIC_KINDS.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const SYNTHETIC_KINDS_AGREE: Same<SyntheticKind, SyntheticBodyJson['kind']> = true;

export const ExampleParams = Type.Object({ name: Type.String({ maxLength: 100 }) });
/** The stored dataset's name; default the example's name. */
export const ExampleQuery = Type.Object({ name: Type.Optional(Name) });

export function datasetJson(meta: DatasetMeta): DatasetJson {
  const { encoding, ...rest } = meta;
  return {
    ...rest,
    categoricalColumns: categoricalSummary(encoding),
    missing: encoding?.missing ?? { strategy: 'error', droppedRows: 0, imputed: [] },
    createdAt: meta.createdAt.toISOString(),
  };
}

export function summaryJson(summary: DatasetSummary): DatasetSummaryJson {
  return { ...summary, createdAt: summary.createdAt.toISOString() };
}
