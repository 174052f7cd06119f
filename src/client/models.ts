/** /v1/models: list, read, delete, predict (JSON rows or CSV), decision grid, export and import. */
import { allPages } from './pages.js';
import type { HttpCore } from './http.js';
import type {
  DecisionGridResult, Evaluation, EvaluationCreated, EvaluationList, Model, ModelDocument, ModelList, ModelListOptions, ModelPatch, ModelSummary,
  ModelVersions, PredictResult,
} from './types.js';

/** Rows in the model's feature order, or objects keyed by feature name. */
export type PredictRows = readonly (readonly number[])[] | readonly Readonly<Record<string, number>>[];

export class Models {
  constructor(private readonly http: HttpCore) {}

  list(options: ModelListOptions = {}): Promise<ModelList> {
    return this.http.request('GET', '/v1/models', { query: { ...options } });
  }

  /** Every model, newest first, following `nextCursor`. */
  all(pageSize = 100): AsyncGenerator<ModelSummary> {
    return allPages((page) => this.list(page), pageSize);
  }

  get(id: string): Promise<Model> {
    return this.http.request('GET', path(id));
  }

  delete(id: string): Promise<void> {
    return this.http.request('DELETE', path(id));
  }

  /** Name (the model becomes the next version of that name), description, tags. */
  update(id: string, patch: ModelPatch): Promise<Model> {
    return this.http.request('PATCH', path(id), { json: patch });
  }

  /** A model by `name@alias`, `name@3` (version 3) or `name` (the latest version). */
  byRef(ref: string): Promise<Model> {
    return this.http.request('GET', `/v1/models/by-name/${encodeURIComponent(ref)}`);
  }

  /** Every version of a name, newest first. */
  versions(name: string): Promise<ModelVersions> {
    return this.http.request('GET', `/v1/models/by-name/${encodeURIComponent(name)}/versions`);
  }

  /** Points `alias` (e.g. production) at a version of `name`. */
  setAlias(name: string, alias: string, version: number): Promise<Model> {
    return this.http.request('PUT', `/v1/models/by-name/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`, { json: { version } });
  }

  removeAlias(name: string, alias: string): Promise<void> {
    return this.http.request('DELETE', `/v1/models/by-name/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`);
  }

  /** Metrics on a stored dataset (`{datasetId}`) or on labelled rows (any JSON form predict takes, target included). */
  evaluate(id: string, body: { datasetId: string } | unknown, options: { target?: string; strict?: boolean } = {}): Promise<EvaluationCreated> {
    return this.http.request('POST', `${path(id)}/evaluate`, { json: body, query: { ...options } });
  }

  evaluations(id: string, options: { limit?: number; cursor?: string } = {}): Promise<EvaluationList> {
    return this.http.request('GET', `${path(id)}/evaluations`, { query: { ...options } });
  }

  evaluation(id: string, evaluationId: string): Promise<Evaluation> {
    return this.http.request('GET', `${path(id)}/evaluations/${encodeURIComponent(evaluationId)}`);
  }

  predict(id: string, rows: PredictRows): Promise<PredictResult> {
    return this.http.request('POST', `${path(id)}/predict`, { json: { rows } });
  }

  /** Any JSON body the route takes: `{rows}`, a bare array, MLflow's `instances`, `inputs`, `dataframe_split`, … */
  predictBody(id: string, body: unknown): Promise<PredictResult> {
    return this.http.request('POST', `${path(id)}/predict`, { json: body });
  }

  /** CSV rows, one per line; a header line (detected, or `header`) matches columns by name. */
  predictCsv(id: string, csv: string, options: { header?: boolean } = {}): Promise<PredictResult> {
    return this.http.request('POST', `${path(id)}/predict`, { body: csv, contentType: 'text/csv', query: { header: options.header } });
  }

  /** A 2-input model's predictions over `resolution`² points of its data range. */
  decisionGrid(id: string, options: { resolution?: number } = {}): Promise<DecisionGridResult> {
    return this.http.request('GET', `${path(id)}/decision-grid`, { query: { resolution: options.resolution } });
  }

  export(id: string): Promise<ModelDocument> {
    return this.http.request('GET', `${path(id)}/export`);
  }

  import(document: ModelDocument): Promise<Model> {
    return this.http.request('POST', '/v1/models/import', { json: document });
  }
}

function path(id: string): string {
  return `/v1/models/${encodeURIComponent(id)}`;
}
