/** /v1/datasets: upload, synthetic and example sets, list, read, preview rows, delete. */
import { allPages } from './pages.js';
import type { HttpCore } from './http.js';
import type {
  Dataset, DatasetList, DatasetListOptions, DatasetRows, DatasetSummary, ExampleOptions, RowsOptions, SyntheticSpec, UploadOptions,
} from './types.js';

const CONTENT_TYPES = { csv: 'text/csv', json: 'application/json' } as const;

export class Datasets {
  constructor(private readonly http: HttpCore) {}

  list(options: DatasetListOptions = {}): Promise<DatasetList> {
    return this.http.request('GET', '/v1/datasets', { query: { ...options } });
  }

  /** Every dataset, newest first, following `nextCursor`. */
  all(pageSize = 100): AsyncGenerator<DatasetSummary> {
    return allPages((page) => this.list(page), pageSize);
  }

  get(id: string): Promise<Dataset> {
    return this.http.request('GET', `/v1/datasets/${encodeURIComponent(id)}`);
  }

  rows(id: string, options: RowsOptions = {}): Promise<DatasetRows> {
    return this.http.request('GET', `/v1/datasets/${encodeURIComponent(id)}/rows`, { query: { ...options } });
  }

  delete(id: string): Promise<void> {
    return this.http.request('DELETE', `/v1/datasets/${encodeURIComponent(id)}`);
  }

  /** Uploads CSV (default) or JSON text or bytes; the options are the route's query parameters. */
  upload(body: string | Blob | Uint8Array | ArrayBuffer, options: UploadOptions = {}): Promise<Dataset> {
    const format = options.format ?? 'csv';
    return this.http.request('POST', '/v1/datasets', {
      query: { ...options, format },
      body: body as BodyInit,
      contentType: CONTENT_TYPES[format],
    });
  }

  synthetic(spec: SyntheticSpec): Promise<Dataset> {
    return this.http.request('POST', '/v1/datasets/synthetic', { json: spec });
  }

  /** A real example dataset shipped with the server: `mnist`, `iris`. */
  example(name: string, options: ExampleOptions = {}): Promise<Dataset> {
    return this.http.request('POST', `/v1/datasets/examples/${encodeURIComponent(name)}`, { query: { ...options } });
  }
}
