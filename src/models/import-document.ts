/**
 * Checks an export document (./export-document.ts) and turns it into a model artifact plus name. Every problem is
 * MODEL_IMPORT_INVALID (400) with `path`, where in the document it is (e.g. `weights.data`, `inputRange[1].max`,
 * `spec`): first the shape (types, required members), then the meaning (the spec is a valid network, the weights are
 * exactly parameterCount float32 with the stated checksum, the preprocessing, names and ranges fit the network), and
 * finally the same consistency check a stored Model row gets (artifactFromRow).
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { Preprocessor } from '../engine/preprocessing.js';
import { apiError, type ApiError } from '../errors.js';
import {
  ARTIFACT_FORMAT, ARTIFACT_VERSION, ArtifactError, artifactFromRow, decodeWeights, parameterCountOf, readArtifactSpec,
  type ModelArtifact,
} from './artifact.js';
import { sha256Hex, WEIGHTS_ENCODING } from './export-document.js';

const Finite = Type.Number();
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const DocumentSchema = Type.Object({
  format: Type.Literal(ARTIFACT_FORMAT),
  version: Type.Literal(ARTIFACT_VERSION),
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
  /** Informational; not imported. */
  source: Type.Optional(Type.Unknown()),
  exportedAt: Type.Optional(Type.String()),
});

export interface ImportedModel {
  name: string;
  artifact: ModelArtifact;
  /** The weights as stored (little-endian float32). */
  weightBytes: Uint8Array<ArrayBuffer>;
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

/** The artifact of a document, or MODEL_IMPORT_INVALID; `maxParameters` is the installation's MAX_PARAMETERS. */
export function importDocument(document: unknown, maxParameters: number): ImportedModel {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('', 'the document must be a JSON object');
  const first = Value.Errors(DocumentSchema, document)[0];
  if (first) {
    // A missing member is reported at its own path, not its parent's.
    const missing = first.keyword === 'required' ? (first.params as { requiredProperties?: string[] }).requiredProperties?.[0] : undefined;
    if (missing !== undefined) throw invalid(pathOf(`${first.instancePath}/${missing}`), 'is required');
    throw invalid(pathOf(first.instancePath), first.message);
  }
  const doc = document as Static<typeof DocumentSchema>;

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

  try {
    const artifact = artifactFromRow({
      task: doc.task, spec: doc.spec, parameterCount, weights: weightBytes, preprocessing: doc.preprocessing,
      featureNames: doc.featureNames, classNames: doc.classNames, metrics: doc.metrics, inputRange: doc.inputRange,
    });
    return { name: doc.name, artifact, weightBytes };
  } catch (error) {
    if (error instanceof ArtifactError) throw invalid('', error.message);
    throw error;
  }
}
