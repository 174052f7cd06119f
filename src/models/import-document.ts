/**
 * Checks an export document (./export-document.ts) and turns it into a model artifact plus name. Every problem is
 * MODEL_IMPORT_INVALID (400) with `path`, where in the document it is (e.g. `weights.data`, `inputRange[1].max`,
 * `spec`): first the shape (types, required members), then the meaning (the spec is a valid network, the weights are
 * exactly parameterCount float32 with the stated checksum, the preprocessing, names and ranges fit the network, the
 * input encoding expands to the feature names), and finally the same consistency check a stored Model row gets
 * (artifactFromRow, readEncoding).
 *
 * Versions (./export-document.ts): 1 has no `inputEncoding` (the model takes its featureNames as numbers); 2 requires
 * `inputEncoding` (an encoding, or null for none). A version that does not match (an `inputEncoding` in a version 1
 * document, none in a version 2 one) is refused at `version` rather than guessed, since what the model takes would
 * then depend on which of the two the reader believed.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { categoryFeatureName, MISSING_STRATEGIES, readEncoding, type DatasetEncoding } from '../datasets/encoding.js';
import { Preprocessor } from '../engine/preprocessing.js';
import { apiError, type ApiError } from '../errors.js';
import {
  ARTIFACT_FORMAT, ArtifactError, artifactFromRow, decodeWeights, parameterCountOf, readArtifactSpec,
  type ModelArtifact,
} from './artifact.js';
import { DOCUMENT_VERSION_ENCODED, DOCUMENT_VERSION_PLAIN, encodingDocument, sha256Hex, WEIGHTS_ENCODING } from './export-document.js';

const Finite = Type.Number();
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** Document.inputEncoding (version 2): src/datasets/encoding.ts's DatasetEncoding. */
const EncodingSchema = Type.Object({
  columns: Type.Array(Type.Object({
    name: Type.String({ minLength: 1 }),
    kind: Type.Union([Type.Literal('numeric'), Type.Literal('categorical')]),
    /** Categorical columns only. */
    categories: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  }), { minItems: 1 }),
  missing: Type.Object({
    strategy: Type.Union(MISSING_STRATEGIES.map((s) => Type.Literal(s))),
    droppedRows: Type.Integer({ minimum: 0 }),
    imputed: Type.Array(Type.Object({
      column: Type.String({ minLength: 1 }),
      cells: Type.Integer({ minimum: 1 }),
      value: Type.Union([Type.Number(), Type.String()]),
    })),
  }),
});

const DocumentSchema = Type.Object({
  format: Type.Literal(ARTIFACT_FORMAT),
  version: Type.Union([Type.Literal(DOCUMENT_VERSION_PLAIN), Type.Literal(DOCUMENT_VERSION_ENCODED)]),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  task: Type.Union([Type.Literal('classification'), Type.Literal('regression')]),
  spec: Type.Record(Type.String(), Type.Unknown()),
  parameterCount: Type.Integer({ minimum: 1 }),
  weights: Type.Object({
    encoding: Type.Literal(WEIGHTS_ENCODING),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    data: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
  }),
  preprocessing: Type.Record(Type.String(), Type.Unknown()),
  featureNames: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  classNames: Type.Array(Type.String({ minLength: 1 })),
  metrics: Type.Object({
    source: Type.Union([Type.Literal('best'), Type.Literal('final')]),
    monitor: Type.String(),
    epoch: Type.Integer({ minimum: 0 }),
    step: Type.Integer({ minimum: 0 }),
    trainLoss: NullableNumber,
    trainAccuracy: NullableNumber,
    valLoss: NullableNumber,
    valAccuracy: NullableNumber,
    valRmse: NullableNumber,
    valR2: NullableNumber,
  }),
  inputRange: Type.Array(Type.Object({ min: Finite, max: Finite })),
  /** Checked by EncodingSchema (so problems get their own paths), after the version. */
  inputEncoding: Type.Optional(Type.Unknown()),
  /** Informational; not imported. */
  source: Type.Optional(Type.Unknown()),
  exportedAt: Type.Optional(Type.String()),
});

export interface ImportedModel {
  name: string;
  artifact: ModelArtifact;
  /** The weights as stored (little-endian float32). */
  weightBytes: Uint8Array<ArrayBuffer>;
  /** How predict turns raw input columns into featureNames (Model.inputEncoding); null: featureNames as numbers. */
  inputEncoding: DatasetEncoding | null;
}

function invalid(path: string, message: string): ApiError {
  return apiError('MODEL_IMPORT_INVALID', path ? `${path}: ${message}` : message, { path });
}

/** JSON pointer (/inputRange/1/max) → the path as written in the docs (inputRange[1].max). */
function pathOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function duplicateAt(names: readonly string[]): number {
  const seen = new Set<string>();
  return names.findIndex((name) => (seen.has(name) ? true : (seen.add(name), false)));
}

/** Throws MODEL_IMPORT_INVALID for the first way `value` (found at JSON pointer `at`) does not fit `schema`. */
function checkShape(schema: typeof DocumentSchema | typeof EncodingSchema, value: unknown, at: string): void {
  const first = Value.Errors(schema, value)[0];
  if (!first) return;
  // A missing member is reported at its own path, not its parent's.
  const missing = first.keyword === 'required' ? (first.params as { requiredProperties?: string[] }).requiredProperties?.[0] : undefined;
  if (missing !== undefined) throw invalid(pathOf(`${at}${first.instancePath}/${missing}`), 'is required');
  throw invalid(pathOf(`${at}${first.instancePath}`), first.message);
}

/** The document's inputEncoding by version (shape only), or null. */
function encodingShape(doc: Static<typeof DocumentSchema>): Static<typeof EncodingSchema> | null {
  const given = doc.inputEncoding;
  // The version says which members the document has; a mismatch is reported at `version`, naming the member.
  if (doc.version === DOCUMENT_VERSION_PLAIN) {
    if (given !== undefined) throw invalid('version', `a document with inputEncoding is version ${DOCUMENT_VERSION_ENCODED}, not ${DOCUMENT_VERSION_PLAIN}`);
    return null;
  }
  if (given === undefined) throw invalid('version', `a version ${DOCUMENT_VERSION_ENCODED} document has inputEncoding (null for none); without it, it is version ${DOCUMENT_VERSION_PLAIN}`);
  if (given === null) return null;
  checkShape(EncodingSchema, given, '/inputEncoding');
  return given as Static<typeof EncodingSchema>;
}

/** The encoding's meaning: unique columns and categories, expanding exactly to featureNames, imputed columns that exist. */
function readDocumentEncoding(e: Static<typeof EncodingSchema>, featureNames: readonly string[]): DatasetEncoding {
  const at = 'inputEncoding.columns';
  const dupColumn = duplicateAt(e.columns.map((c) => c.name));
  if (dupColumn >= 0) throw invalid(`${at}[${dupColumn}].name`, `"${e.columns[dupColumn]!.name}" appears twice`);
  let feature = 0;
  const expect = (name: string, path: string): void => {
    if (feature >= featureNames.length) throw invalid(path, `expands to more than the ${featureNames.length} features of featureNames`);
    if (featureNames[feature] !== name) throw invalid(path, `expands to feature "${name}" where featureNames[${feature}] is "${featureNames[feature]}"`);
    feature++;
  };
  e.columns.forEach((c, i) => {
    if (c.kind === 'numeric') {
      if (c.categories !== undefined) throw invalid(`${at}[${i}].categories`, 'a numeric column has no categories');
      expect(c.name, `${at}[${i}]`);
      return;
    }
    if (c.categories === undefined) throw invalid(`${at}[${i}].categories`, 'is required for a categorical column');
    const dup = duplicateAt(c.categories);
    if (dup >= 0) throw invalid(`${at}[${i}].categories[${dup}]`, `"${c.categories[dup]}" appears twice`);
    // Predict trims a text value before looking it up (as the upload did), so an untrimmed category could never match.
    const untrimmed = c.categories.findIndex((k) => k !== k.trim());
    if (untrimmed >= 0) throw invalid(`${at}[${i}].categories[${untrimmed}]`, 'has leading or trailing whitespace (categories are trimmed text)');
    c.categories.forEach((k, j) => expect(categoryFeatureName(c.name, k), `${at}[${i}].categories[${j}]`));
  });
  if (feature !== featureNames.length) throw invalid(at, `expand to ${feature} features; featureNames has ${featureNames.length}`);
  const kinds = new Map(e.columns.map((c) => [c.name, c.kind]));
  e.missing.imputed.forEach((m, i) => {
    const kind = kinds.get(m.column);
    if (kind === undefined) throw invalid(`inputEncoding.missing.imputed[${i}].column`, `"${m.column}" is not one of the columns`);
    const fits = kind === 'numeric' ? typeof m.value === 'number' && Number.isFinite(m.value) : typeof m.value === 'string';
    if (!fits) throw invalid(`inputEncoding.missing.imputed[${i}].value`, kind === 'numeric' ? 'a numeric column is imputed with a finite number' : 'a categorical column is imputed with a category');
  });
  const encoding = encodingDocument({
    columns: e.columns.map((c) => (c.kind === 'numeric' ? { name: c.name, kind: 'numeric' } : { name: c.name, kind: 'categorical', categories: c.categories ?? [] })),
    missing: e.missing,
  });
  try {
    return readEncoding(encoding, featureNames)!; // the check a stored Model.inputEncoding gets
  } catch (error) {
    throw invalid('inputEncoding', (error as Error).message);
  }
}

/** The artifact of a document, or MODEL_IMPORT_INVALID; `maxParameters` is the installation's MAX_PARAMETERS. */
export function importDocument(document: unknown, maxParameters: number): ImportedModel {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('', 'the document must be a JSON object');
  checkShape(DocumentSchema, document, '');
  const doc = document as Static<typeof DocumentSchema>;
  const encodingGiven = encodingShape(doc);

  let spec;
  try {
    spec = readArtifactSpec(doc.spec);
  } catch (error) {
    throw invalid('spec', (error as Error).message);
  }
  const parameterCount = parameterCountOf(spec);
  if (doc.parameterCount !== parameterCount) throw invalid('parameterCount', `is ${doc.parameterCount}; the spec has ${parameterCount} parameters`);
  if (parameterCount > maxParameters) throw invalid('parameterCount', `${parameterCount} parameters exceed the limit of ${maxParameters} (MAX_PARAMETERS)`);

  const raw = Buffer.from(doc.weights.data, 'base64');
  const weightBytes = new Uint8Array(raw.byteLength);
  weightBytes.set(raw);
  if (weightBytes.byteLength !== parameterCount * 4) throw invalid('weights.data', `holds ${weightBytes.byteLength} bytes; ${parameterCount} float32 take ${parameterCount * 4}`);
  if (sha256Hex(weightBytes) !== doc.weights.sha256) throw invalid('weights.sha256', 'does not match the weights (corrupted or edited document)');
  const weights = decodeWeights(weightBytes, parameterCount);
  const bad = weights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0) throw invalid('weights.data', `weight ${bad} is not finite`);

  let pre: Preprocessor;
  try {
    pre = Preprocessor.fromJSON(doc.preprocessing);
  } catch (error) {
    throw invalid('preprocessing', (error as Error).message);
  }
  if (pre.outputs !== spec.inputs) throw invalid('preprocessing.outputs', `is ${pre.outputs}; the network takes ${spec.inputs} inputs`);
  if (doc.featureNames.length !== pre.inputs) throw invalid('featureNames', `has ${doc.featureNames.length} names; the preprocessing takes ${pre.inputs} features`);
  const dupFeature = duplicateAt(doc.featureNames);
  if (dupFeature >= 0) throw invalid(`featureNames[${dupFeature}]`, `"${doc.featureNames[dupFeature]}" appears twice`);
  const dupClass = duplicateAt(doc.classNames);
  if (dupClass >= 0) throw invalid(`classNames[${dupClass}]`, `"${doc.classNames[dupClass]}" appears twice`);
  const classes = doc.classNames.length;
  if (doc.task === 'regression') {
    if (spec.loss !== 'l2' || spec.outputs !== 1) throw invalid('spec', 'a regression model has one output and the l2 loss');
    if (classes !== 0) throw invalid('classNames', 'a regression model has no classes');
  } else {
    if (spec.loss === 'l2') throw invalid('spec.loss', 'a classification model cannot have the l2 loss');
    if (!(classes >= 2 && (spec.outputs === classes || (spec.outputs === 1 && classes === 2)))) {
      throw invalid('classNames', `${classes} class names do not fit the network's ${spec.outputs} outputs`);
    }
  }
  if (doc.inputRange.length !== pre.inputs) throw invalid('inputRange', `has ${doc.inputRange.length} entries for ${pre.inputs} features`);
  const badRange = doc.inputRange.findIndex((r) => !(Number.isFinite(r.min) && Number.isFinite(r.max) && r.min <= r.max));
  if (badRange >= 0) throw invalid(`inputRange[${badRange}]`, 'needs finite min ≤ max');
  const inputEncoding = encodingGiven ? readDocumentEncoding(encodingGiven, doc.featureNames) : null;

  try {
    const artifact = artifactFromRow({
      task: doc.task, spec: doc.spec, parameterCount, weights: weightBytes, preprocessing: doc.preprocessing,
      featureNames: doc.featureNames, classNames: doc.classNames, metrics: doc.metrics, inputRange: doc.inputRange,
    });
    return { name: doc.name, artifact, weightBytes, inputEncoding };
  } catch (error) {
    if (error instanceof ArtifactError) throw invalid('', error.message);
    throw error;
  }
}
