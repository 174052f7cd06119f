/**
 * The model registry: PATCH /v1/models/:id (name, description, tags), versions of a name, aliases pointing at one
 * version, and predict by name (`POST /v1/models/by-name/:name@:alias/predict`, `@:version`, or the bare name for the
 * latest version), which is the predict route itself (./predict.ts) registered again under /by-name with a resolver.
 * Versions: src/models/versions.ts.
 */
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { tenantOf } from '../../auth/plugin.js';
import { isUuid } from '../../datasets/ids.js';
import { deleteAlias, getModelInfo, listVersions, resolveVersionRef, setAlias, updateModel } from '../../db/repositories/models.js';
import { apiError } from '../../errors.js';
import { example, NoContent } from '../../http/openapi-docs.js';
import { ALIAS_PATTERN, parseVersionRef } from '../../models/versions.js';
import { predictRoutes } from './predict.js';
import { modelNotFound } from './read.js';
import { IdParams, ModelSchema, ModelSummarySchema, modelJson, summaryJson } from './schemas.js';

/** A model as the examples of the docs show it. */
export const MODEL_EXAMPLE = {
  id: '6f1c2b1e-4a8e-4b8e-9a53-2f4f0c1d2e3f', name: 'spiral', task: 'classification', parameterCount: 603, inputs: 2, classes: 3,
  jobId: null, datasetId: '0b7e5a43-3c1b-4f0e-8a2b-7d6c5e4f3a21', version: 2, aliases: ['production'], description: 'λ = 0.001', tags: ['spiral'],
  promotedFrom: { jobId: '1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d', step: 900 }, createdAt: '2026-12-03T12:00:00.000Z',
  spec: { inputs: 2, layers: [{ units: 100, activation: 'relu' }], outputs: 3, loss: 'softmax' },
  layers: [{ name: 'fc1', kind: 'dense', activation: 'relu', inputs: 2, outputs: 100, params: 300 }, { name: 'fc2', kind: 'dense', activation: null, inputs: 100, outputs: 3, params: 303 }],
  featureNames: ['x', 'y'], classNames: ['0', '1', '2'],
  preprocessing: { type: 'standardize', inputs: 2, outputs: 2, standardize: true, components: null, epsilon: null },
  metrics: { source: 'best', monitor: 'valLoss', epoch: 100, step: 900, valLoss: 0.21, valAccuracy: 0.93 },
  inputRange: [{ min: -1, max: 1 }, { min: -1, max: 1 }],
};

const Name = Type.String({ minLength: 1, maxLength: 200 });
const NameParams = Type.Object({ name: Name });
const AliasParams = Type.Object({ name: Name, alias: Type.String({ pattern: ALIAS_PATTERN, description: 'A letter, then letters, digits, ., _ or - (at most 64).' }) });

const PatchBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A new name makes the model the next version of that name; its aliases (of the old name) are removed.' })),
  description: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 2000 })], { description: 'Null clears it.' })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, description: 'Replaces the tags (duplicates dropped).' })),
}, { additionalProperties: false, minProperties: 1 });

const AliasBody = Type.Object({ version: Type.Integer({ minimum: 1, description: 'The version the alias points at.' }) }, { additionalProperties: false });

const VersionList = Type.Object({ name: Type.String(), items: Type.Array(ModelSummarySchema) });

export async function registryRoutes(parent: FastifyInstance): Promise<void> {
  await parent.register(editRoutes);
  // POST /by-name/:name@:alias/predict (and @:version): the predict route with the name resolved to a model id (its
  // own scope: its CSV parser and its validator, which coerces `?header=true`).
  const { db } = parent.services;
  await parent.register(predictRoutes, {
    prefix: '/by-name',
    resolveModelId: async (tenantId: string, segment: string) => (await resolveVersionRef(db, tenantId, parseVersionRef(segment)))?.id ?? null,
  });
}

/** PATCH, versions, aliases, read by name: validated strictly by TypeBox (an unknown field is a 400, never dropped). */
async function editRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const { db } = app.services;

  app.patch('/:id', {
    schema: {
      summary: 'Edit a model: name, description, tags',
      tags: ['models'],
      params: IdParams,
      body: example(PatchBody, { description: 'λ = 0.001', tags: ['spiral', 'baseline'] }),
      response: { 200: example(ModelSchema, MODEL_EXAMPLE) },
      errors: ['MODEL_NOT_FOUND'],
    },
  }, async (request) => {
    const { id } = request.params;
    const model = isUuid(id) ? await updateModel(db, tenantOf(request).id, id, request.body) : null;
    if (!model) throw modelNotFound(id);
    return modelJson(model);
  });

  app.get('/by-name/:name/versions', {
    schema: {
      summary: 'List the versions of a model name',
      description: 'Every model of this name, newest version first, each with the aliases pointing at it.',
      tags: ['models'],
      params: NameParams,
      response: { 200: example(VersionList, { name: 'spiral', items: [summaryExample()] }) },
      errors: ['MODEL_VERSION_NOT_FOUND'],
    },
  }, async (request) => {
    const { name } = request.params;
    const items = await listVersions(db, tenantOf(request).id, name);
    if (items.length === 0) throw apiError('MODEL_VERSION_NOT_FOUND', `No model is named ${name}`, { name });
    return { name, items: items.map(summaryJson) };
  });

  app.put('/by-name/:name/aliases/:alias', {
    schema: {
      summary: 'Point an alias at a version',
      description: 'Creates the alias (e.g. `production`, `staging`) or moves it to another version of the name.',
      tags: ['models'],
      params: AliasParams,
      body: example(AliasBody, { version: 2 }),
      response: { 200: example(ModelSchema, MODEL_EXAMPLE) },
      errors: ['MODEL_VERSION_NOT_FOUND'],
    },
  }, async (request) => {
    const { name, alias } = request.params;
    const model = await setAlias(db, tenantOf(request).id, name, alias, request.body.version);
    if (!model) throw apiError('MODEL_VERSION_NOT_FOUND', `No version ${request.body.version} of ${name}`, { name, version: request.body.version });
    return modelJson(model);
  });

  app.delete('/by-name/:name/aliases/:alias', {
    schema: { summary: 'Remove an alias', tags: ['models'], params: AliasParams, response: { 204: NoContent }, errors: ['MODEL_VERSION_NOT_FOUND'] },
  }, async (request, reply) => {
    const { name, alias } = request.params;
    if (!(await deleteAlias(db, tenantOf(request).id, name, alias))) throw apiError('MODEL_VERSION_NOT_FOUND', `${name} has no alias ${alias}`, { name, alias });
    return reply.code(204).send(null);
  });

  app.get('/by-name/:ref', {
    schema: {
      summary: 'Read a model by name and alias or version',
      description: '`:ref` is `name@alias`, `name@3` (version 3) or `name` (the latest version).',
      tags: ['models'],
      params: Type.Object({ ref: Type.String({ minLength: 1, maxLength: 300 }) }),
      response: { 200: example(ModelSchema, MODEL_EXAMPLE) },
      errors: ['MODEL_VERSION_NOT_FOUND'],
    },
  }, async (request) => {
    const { ref } = request.params;
    const tenantId = tenantOf(request).id;
    const found = await resolveVersionRef(db, tenantId, parseVersionRef(ref));
    const info = found ? await getModelInfo(db, tenantId, found.id) : null;
    if (!info) throw apiError('MODEL_VERSION_NOT_FOUND', `No model ${ref}`, { ref });
    return modelJson(info);
  });
}

function summaryExample() {
  const { spec: _s, layers: _l, featureNames: _f, classNames: _c, preprocessing: _p, metrics: _m, inputRange: _i, ...summary } = MODEL_EXAMPLE;
  return summary;
}
