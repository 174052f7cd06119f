/**
 * The table of bad inputs that test/http/bad-inputs.test.ts sends: dataset uploads (CSV, JSON, multipart, and the other
 * ways to create a dataset), job specs, prediction bodies and model imports, WebSocket streams (upgrade requests and
 * frames), and path/query parameters. Each row states the CORRECT answer: the status and the stable `code` (src/errors.ts,
 * README), and for WebSocket frames the close code. A row that fails shows a bug to report, not a row to bend.
 *
 * Out of scope here: Fastify's own router-level answers (414, 431, …), which have a test of their own.
 */
import request from 'supertest';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import type { ErrorCode } from '../../src/errors.js';
import type { TestTenant } from '../helpers/app.js';

export interface Fixtures {
  /** The app under test (listening). */
  app: FastifyInstance;
  /**
   * The same installation with small limits: MAX_DATASET_ROWS 5, MAX_UPLOAD_BYTES 2000, MAX_CLASSES 3,
   * MAX_DATASET_FEATURES 3, MAX_PARAMETERS 100,000, MAX_EPOCH_ROWS 1,000,000.
   */
  limited: FastifyInstance;
  /** ws://127.0.0.1:<port> of `app`. */
  wsBase: string;
  tenant: TestTenant;
  other: TestTenant;
  /** The tenant's spiral: 300 rows, 2 features (x, y), 3 classes; 270 training rows at the default split. */
  spiralId: string;
  /** The tenant's regression table: 3 features. */
  regressionId: string;
  /** A dataset of the other tenant. */
  otherDatasetId: string;
  /** The tenant's iris model: features sepal_length, sepal_width, petal_length, petal_width. */
  irisModelId: string;
  /** The tenant's 2-input spiral model (decision grids). */
  spiralModelId: string;
  otherModelId: string;
  /** The iris model's export document (model import cases damage a copy). */
  irisExport: Record<string, unknown>;
  /** A running job of the tenant (hand-made row: no worker runs in this file). */
  runningJobId: string;
  otherJobId: string;
}

/** What came back: an HTTP answer, or (WebSocket frames) the close code of an accepted stream. */
export type Answer =
  | { kind: 'http'; status: number; headers: Record<string, string | string[] | undefined>; text: string; body: Record<string, unknown> | null }
  | { kind: 'close'; code: number; reason: string };

export type Group = 'upload' | 'spec' | 'predict' | 'websocket' | 'params';

export type Expectation =
  | { status: number; code: ErrorCode; fields?: Record<string, unknown> }
  | { close: number };

export interface BadInput {
  group: Group;
  name: string;
  send(f: Fixtures): Promise<Answer>;
  expect: Expectation;
}

// ---- sending ---------------------------------------------------------------------------------------------------------

function answerOf(res: request.Response): Answer {
  let body: Record<string, unknown> | null = null;
  try {
    body = res.text ? (JSON.parse(res.text) as Record<string, unknown>) : null;
  } catch {
    body = null;
  }
  return { kind: 'http', status: res.status, headers: res.headers as Record<string, string | undefined>, text: res.text ?? '', body };
}

type Method = 'get' | 'post' | 'delete';

/** One HTTP request; `body` as a string is sent byte for byte with `contentType`, an object as JSON. */
export async function http(
  app: FastifyInstance,
  method: Method,
  path: string,
  options: { auth?: Record<string, string>; body?: string | Buffer | object; contentType?: string } = {},
): Promise<Answer> {
  let req = request(app.server)[method](path);
  if (options.auth) req = req.set(options.auth);
  if (options.contentType) req = req.set('content-type', options.contentType);
  const res = options.body === undefined ? await req : await req.send(options.body as string);
  return answerOf(res);
}

/** A WebSocket upgrade request: the HTTP answer when refused; when accepted, `then` runs on the open socket. */
export function upgrade(
  wsBase: string,
  path: string,
  headers: Record<string, string>,
  then: (ws: WebSocket) => Promise<Answer> = async (ws) => {
    ws.close();
    return { kind: 'close', code: -1, reason: 'the upgrade was accepted' };
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsBase}${path}`, { headers });
    ws.once('open', () => then(ws).then(resolve, reject));
    ws.once('unexpected-response', (req, res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        req.destroy();
        const text = Buffer.concat(parts).toString('utf8');
        let body: Record<string, unknown> | null = null;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = null;
        }
        resolve({ kind: 'http', status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

/** An accepted stream that is sent `data` as one frame: the close code the server answers with. */
function sendFrame(data: string | Buffer, binary: boolean) {
  return (ws: WebSocket) =>
    new Promise<Answer>((resolve) => {
      ws.once('close', (code, reason) => resolve({ kind: 'close', code, reason: String(reason) }));
      ws.send(data, { binary });
    });
}

// ---- bodies ------------------------------------------------------------------------------------------------------

const BOUNDARY = '----trainyard-bad-inputs';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const field = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const file = (content: string, filename = 'd.csv', type = 'text/csv') =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n`;
const end = `--${BOUNDARY}--\r\n`;

const GOOD_CSV = 'a,b,y\n1,2,x\n3,4,z\n';
const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];
const IRIS_HEADER = 'sepal_length,sepal_width,petal_length,petal_width';
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

const csv = (body: string, query = '') => (f: Fixtures) => http(f.app, 'post', `/v1/datasets${query}`, { auth: f.tenant.auth, body, contentType: 'text/csv' });
const json = (body: string, query = '') => (f: Fixtures) => http(f.app, 'post', `/v1/datasets${query}`, { auth: f.tenant.auth, body, contentType: 'application/json' });
const multipart = (body: string, query = '') => (f: Fixtures) => http(f.app, 'post', `/v1/datasets${query}`, { auth: f.tenant.auth, body, contentType: MULTIPART });
const limitedCsv = (body: string) => (f: Fixtures) => http(f.limited, 'post', '/v1/datasets', { auth: f.tenant.auth, body, contentType: 'text/csv' });

const job = (spec: (f: Fixtures) => object, query = '') => (f: Fixtures) => http(f.app, 'post', `/v1/jobs${query}`, { auth: f.tenant.auth, body: spec(f) });
const spiralJob = (extra: object) => job((f) => ({ datasetId: f.spiralId, ...extra }));
const limitedJob = (extra: object) => (f: Fixtures) => http(f.limited, 'post', '/v1/jobs', { auth: f.tenant.auth, body: { datasetId: f.spiralId, ...extra } });

const predict = (body: unknown) => (f: Fixtures) => http(f.app, 'post', `/v1/models/${f.irisModelId}/predict`, { auth: f.tenant.auth, body: body as object });
const predictCsv = (body: string, query = '') => (f: Fixtures) =>
  http(f.app, 'post', `/v1/models/${f.irisModelId}/predict${query}`, { auth: f.tenant.auth, body, contentType: 'text/csv' });
const importModel = (damage: (doc: Record<string, unknown>) => unknown) => (f: Fixtures) =>
  http(f.app, 'post', '/v1/models/import', { auth: f.tenant.auth, body: damage(structuredClone(f.irisExport)) as object });

const get = (path: (f: Fixtures) => string) => (f: Fixtures) => http(f.app, 'get', path(f), { auth: f.tenant.auth });
const stream = (path: (f: Fixtures) => string, headers: (f: Fixtures) => Record<string, string> = (f) => f.tenant.auth) => (f: Fixtures) =>
  upgrade(f.wsBase, path(f), headers(f));

const bad = (status: number, code: ErrorCode, fields?: Record<string, unknown>): Expectation => ({ status, code, fields });

// ---- the table ---------------------------------------------------------------------------------------------------

export const CASES: BadInput[] = [
  // Dataset uploads: CSV
  { group: 'upload', name: 'CSV: a ragged row', send: csv('a,b,y\n1,2,x\n3,4\n'), expect: bad(400, 'DATASET_RAGGED_ROW', { row: 1, line: 3, expected: 3, actual: 2 }) },
  { group: 'upload', name: 'CSV: a row with an extra cell', send: csv('a,b,y\n1,2,x\n3,4,z,9\n'), expect: bad(400, 'DATASET_RAGGED_ROW', { row: 1, expected: 3, actual: 4 }) },
  { group: 'upload', name: 'CSV: a non-numeric feature', send: csv('a,b,y\n1,2,x\n3,abc,z\n'), expect: bad(400, 'DATASET_NON_NUMERIC', { row: 1, line: 3, column: 'b', value: 'abc' }) },
  { group: 'upload', name: 'CSV: a hexadecimal feature', send: csv('a,b,y\n1,2,x\n2,0x1F,z\n'), expect: bad(400, 'DATASET_NON_NUMERIC', { value: '0x1F' }) },
  { group: 'upload', name: 'CSV: a text target with task=regression', send: csv('a,y\n1,x\n2,z\n', '?task=regression'), expect: bad(400, 'DATASET_NON_NUMERIC', { column: 'y' }) },
  { group: 'upload', name: 'CSV: NaN', send: csv('a,b,y\n1,2,x\n3,NaN,z\n'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 1, column: 'b', reason: 'nan' }) },
  { group: 'upload', name: 'CSV: Infinity', send: csv('a,b,y\n1,Infinity,x\n2,3,z\n'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 0, reason: 'infinite' }) },
  { group: 'upload', name: 'CSV: -inf', send: csv('a,b,y\n-inf,2,x\n2,3,z\n'), expect: bad(400, 'DATASET_MISSING_VALUE', { column: 'a', reason: 'infinite' }) },
  { group: 'upload', name: 'CSV: a value beyond float32', send: csv('a,b,y\n1,1e39,x\n2,3,z\n'), expect: bad(400, 'DATASET_MISSING_VALUE', { reason: 'out-of-float32-range' }) },
  { group: 'upload', name: 'CSV: a negative value beyond float32', send: csv('a,b,y\n1,2,x\n-3.5e38,3,z\n'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 1, reason: 'out-of-float32-range' }) },
  { group: 'upload', name: 'CSV: a regression target beyond float32', send: csv('a,y\n1,2\n2,1e39\n', '?task=regression'), expect: bad(400, 'DATASET_MISSING_VALUE', { column: 'y', reason: 'out-of-float32-range' }) },
  { group: 'upload', name: 'CSV: an empty cell', send: csv('a,b,y\n1,,x\n2,3,z\n'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 0, column: 'b', reason: 'empty' }) },
  { group: 'upload', name: 'CSV: an empty body', send: csv(''), expect: bad(400, 'DATASET_EMPTY') },
  { group: 'upload', name: 'CSV: blank lines only', send: csv('\n\n   \n'), expect: bad(400, 'DATASET_EMPTY') },
  { group: 'upload', name: 'CSV: a header and no rows', send: csv('a,b,label\n'), expect: bad(400, 'DATASET_HEADER_ONLY') },
  { group: 'upload', name: 'CSV: a single class', send: csv('a,y\n1,x\n2,x\n3,x\n'), expect: bad(400, 'DATASET_SINGLE_CLASS', { classes: ['x'] }) },
  { group: 'upload', name: 'CSV: a target column that does not exist', send: csv(GOOD_CSV, '?target=label'), expect: bad(400, 'DATASET_TARGET_NOT_FOUND', { target: 'label' }) },
  { group: 'upload', name: 'CSV: a target index past the last column', send: csv('1,2,x\n3,4,z\n', '?header=false&target=3'), expect: bad(400, 'DATASET_TARGET_NOT_FOUND', { target: '3' }) },
  { group: 'upload', name: 'CSV: data in another delimiter (one column)', send: csv('a;b;y\n1;2;x\n3;4;z\n'), expect: bad(400, 'DATASET_MALFORMED', { columns: 1 }) },
  { group: 'upload', name: 'CSV: an unclosed quote', send: csv('a,y\n"1,x\n2,z\n'), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'CSV: a duplicate column name', send: csv('a,a,y\n1,2,x\n3,4,z\n'), expect: bad(400, 'DATASET_MALFORMED', { column: 'a' }) },
  { group: 'upload', name: 'option: a two-character delimiter', send: csv(GOOD_CSV, '?delimiter=ab'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: a quote as delimiter', send: csv(GOOD_CSV, '?delimiter=%22'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: an empty delimiter', send: csv(GOOD_CSV, '?delimiter='), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: an unknown option (misspelt)', send: csv(GOOD_CSV, '?delimeter=;'), expect: bad(400, 'VALIDATION_FAILED', { errors: [{ path: 'querystring.delimeter', message: 'is not an upload option; did you mean `delimiter`? (name, format, header, delimiter, target, task, missing)' }] }) },
  { group: 'upload', name: 'option: header=yes', send: csv(GOOD_CSV, '?header=yes'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: task=clustering', send: csv(GOOD_CSV, '?task=clustering'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: format=json on a CSV body', send: csv(GOOD_CSV, '?format=json'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: format=xlsx', send: csv(GOOD_CSV, '?format=xlsx'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: a name of 201 characters', send: csv(GOOD_CSV, `?name=${'n'.repeat(201)}`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'option: the same option twice', send: csv(GOOD_CSV, '?task=regression&task=classification'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'content type: text/plain', send: (f) => http(f.app, 'post', '/v1/datasets', { auth: f.tenant.auth, body: GOOD_CSV, contentType: 'text/plain' }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'upload', name: 'content type: application/xml', send: (f) => http(f.app, 'post', '/v1/datasets', { auth: f.tenant.auth, body: '<a/>', contentType: 'application/xml' }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'upload', name: 'content type: none', send: (f) => http(f.app, 'post', '/v1/datasets', { auth: f.tenant.auth }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'upload', name: 'limits: more rows than MAX_DATASET_ROWS (413)', send: limitedCsv('a,y\n1,1\n2,2\n3,1\n4,2\n5,1\n6,2\n'), expect: bad(413, 'DATASET_TOO_MANY_ROWS', { limit: 5, row: 5 }) },
  { group: 'upload', name: 'limits: more columns than MAX_DATASET_FEATURES (413)', send: limitedCsv('a,b,c,d,y\n1,2,3,4,x\n5,6,7,8,z\n'), expect: bad(413, 'DATASET_TOO_MANY_FEATURES', { limit: 3 }) },
  { group: 'upload', name: 'limits: more classes than MAX_CLASSES', send: limitedCsv('a,y\n1,a\n2,b\n3,c\n4,d\n'), expect: bad(400, 'DATASET_TOO_MANY_CLASSES', { limit: 3 }) },
  { group: 'upload', name: 'limits: more bytes than MAX_UPLOAD_BYTES (413)', send: limitedCsv('a,y\n' + '1,x\n2,y\n'.repeat(300)), expect: bad(413, 'PAYLOAD_TOO_LARGE', { limit: 2000 }) },
  { group: 'upload', name: 'a bad key', send: (f) => http(f.app, 'post', '/v1/datasets', { auth: { authorization: 'Bearer ty_nope_nope' }, body: GOOD_CSV, contentType: 'text/csv' }), expect: bad(401, 'UNAUTHENTICATED') },

  // Dataset uploads: JSON
  { group: 'upload', name: 'JSON: truncated', send: json('[[1,2,"x"],[3,4'), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'JSON: trailing garbage', send: json('[[1,2,"x"]] trailing'), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'JSON: a NaN literal', send: json('[[1, NaN, "x"]]'), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'JSON: a bare string', send: json('"a string"'), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'JSON: rows that are not arrays or objects', send: json('[1, 2]'), expect: bad(400, 'DATASET_MALFORMED', { row: 0 }) },
  { group: 'upload', name: 'JSON: a nested object as a cell', send: json('[[1, {"nested": true}], [2, "z"]]'), expect: bad(400, 'DATASET_MALFORMED', { row: 0, column: 'c1' }) },
  { group: 'upload', name: 'JSON: a ragged row', send: json('[[1,2,"x"],[3,4,"y",5]]'), expect: bad(400, 'DATASET_RAGGED_ROW', { row: 1, expected: 3, actual: 4 }) },
  { group: 'upload', name: 'JSON: an object row with an unknown key', send: json('[{"a":1,"y":"x"},{"a":2,"y":"z","b":3}]'), expect: bad(400, 'DATASET_RAGGED_ROW', { row: 1, column: 'b' }) },
  { group: 'upload', name: 'JSON: a boolean feature', send: json('[[1,true,"x"],[2,3,"z"]]'), expect: bad(400, 'DATASET_NON_NUMERIC', { row: 0, column: 'c1' }) },
  { group: 'upload', name: 'JSON: null', send: json('[[1,null,"x"],[2,3,"z"]]'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 0, column: 'c1', reason: 'null' }) },
  { group: 'upload', name: 'JSON: a key absent from an object row', send: json('[{"a":1,"y":"x"},{"y":"z"}]'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 1, column: 'a', reason: 'absent' }) },
  { group: 'upload', name: 'JSON: a number beyond float32', send: json('[[1,2,"x"],[3,1e39,"z"]]'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 1, column: 'c1', reason: 'out-of-float32-range' }) },
  { group: 'upload', name: 'JSON: a string "Infinity" as a feature', send: json('[[1,"Infinity","x"],[2,3,"z"]]'), expect: bad(400, 'DATASET_MISSING_VALUE', { row: 0, column: 'c1', reason: 'infinite' }) },
  { group: 'upload', name: 'JSON: an empty array', send: json('[]'), expect: bad(400, 'DATASET_EMPTY') },
  { group: 'upload', name: 'JSON: an empty body', send: json(''), expect: bad(400, 'DATASET_EMPTY') },
  { group: 'upload', name: 'JSON: columns and no data', send: json('{"columns": ["a", "y"], "data": []}'), expect: bad(400, 'DATASET_HEADER_ONLY') },
  { group: 'upload', name: 'JSON: a single class', send: json('[[1,"x"],[2,"x"]]'), expect: bad(400, 'DATASET_SINGLE_CLASS') },
  { group: 'upload', name: 'JSON: a CSV-only option', send: json('[[1,"x"],[2,"z"]]', '?delimiter=;'), expect: bad(400, 'VALIDATION_FAILED') },

  // Dataset uploads: multipart
  { group: 'upload', name: 'multipart: no boundary', send: (f) => http(f.app, 'post', '/v1/datasets', { auth: f.tenant.auth, body: GOOD_CSV, contentType: 'multipart/form-data' }), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: truncated inside the file', send: multipart(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="d.csv"\r\nContent-Type: text/csv\r\n\r\na,y\n1,x\n2,`), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: truncated before the closing boundary', send: multipart(file(GOOD_CSV)), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: garbage', send: multipart('garbage without any boundary\r\n'), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: fields and no file', send: multipart(field('name', 'x') + end), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: an option after the file', send: multipart(file(GOOD_CSV) + field('target', 'a') + end), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: two files', send: multipart(file(GOOD_CSV) + file(GOOD_CSV) + end), expect: bad(400, 'DATASET_MALFORMED') },
  { group: 'upload', name: 'multipart: an unknown field', send: multipart(field('colour', 'red') + file(GOOD_CSV) + end), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'multipart: a field that contradicts the query', send: multipart(field('target', 'y') + file(GOOD_CSV) + end, '?target=a'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'multipart: a file of an unknown type', send: multipart(file(GOOD_CSV, 'data.bin', 'application/octet-stream') + end), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'upload', name: 'multipart: a ragged CSV file', send: multipart(file('a,b,y\n1,2,x\n3,4\n') + end), expect: bad(400, 'DATASET_RAGGED_ROW', { row: 1 }) },
  { group: 'upload', name: 'multipart: a JSON file with NaN', send: multipart(file('[[1, NaN, "x"]]', 'd.json', 'application/json') + end), expect: bad(400, 'DATASET_MALFORMED') },

  // Other ways to create a dataset
  { group: 'upload', name: 'synthetic: an unknown kind', send: (f) => http(f.app, 'post', '/v1/datasets/synthetic', { auth: f.tenant.auth, body: { kind: 'hexagons' } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'synthetic: n = 0', send: (f) => http(f.app, 'post', '/v1/datasets/synthetic', { auth: f.tenant.auth, body: { kind: 'spiral', n: 0 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'synthetic: an unknown field', send: (f) => http(f.app, 'post', '/v1/datasets/synthetic', { auth: f.tenant.auth, body: { kind: 'spiral', noize: 0.1 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'upload', name: 'example: an unknown name', send: (f) => http(f.app, 'post', '/v1/datasets/examples/cifar10', { auth: f.tenant.auth }), expect: bad(404, 'EXAMPLE_NOT_FOUND') },

  // Job specs
  { group: 'spec', name: 'an unknown top-level field', send: spiralJob({ epochs: 3 }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'an unknown nested field', send: spiralJob({ training: { epoch: 3 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'an unknown activation', send: spiralJob({ network: { layers: [{ units: 10, activation: 'relu6' }] } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'an unknown optimizer', send: spiralJob({ optimizer: { type: 'lbfgs' } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'an unknown loss', send: spiralJob({ network: { loss: 'hinge2' } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'an unknown preprocessing', send: spiralJob({ preprocessing: { type: 'normalize' } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'negative units', send: spiralJob({ network: { layers: [{ units: -5 }] } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'zero epochs', send: spiralJob({ training: { epochs: 0 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'a negative batch size', send: spiralJob({ training: { batchSize: -32 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'a fractional batch size', send: spiralJob({ training: { batchSize: 1.5 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'a negative learning rate', send: spiralJob({ optimizer: { type: 'sgd', learningRate: -0.1 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'dropout 1', send: spiralJob({ network: { layers: [{ units: 10, dropout: 1 }] } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'validationFraction 1.5', send: spiralJob({ training: { validationFraction: 1.5 } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'epochs as a string', send: spiralJob({ training: { epochs: '10' } }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'batch larger than the training split', send: spiralJob({ training: { batchSize: 271 } }), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'PCA components > features', send: spiralJob({ preprocessing: { type: 'pca', components: 3 } }), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'l2 loss on a classification dataset', send: spiralJob({ network: { loss: 'l2' } }), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'softmax loss on a regression dataset', send: job((f) => ({ datasetId: f.regressionId, network: { loss: 'softmax' } })), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'an option of another optimizer', send: spiralJob({ optimizer: { type: 'sgd', beta1: 0.9 } }), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'a regression monitor on a classification job', send: spiralJob({ training: { monitor: 'valRmse' } }), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'more parameters than MAX_PARAMETERS', send: limitedJob({ network: { layers: [{ units: 1000 }, { units: 1000 }] } }), expect: bad(400, 'JOB_TOO_LARGE') },
  { group: 'spec', name: 'more epoch rows than MAX_EPOCH_ROWS', send: limitedJob({ training: { epochs: 10_000 } }), expect: bad(400, 'JOB_TOO_LARGE') },
  { group: 'spec', name: 'a datasetId that is not a uuid', send: job(() => ({ datasetId: 'nope' })), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'no datasetId', send: job(() => ({ name: 'x' })), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'a datasetId of no dataset', send: job(() => ({ datasetId: NO_SUCH_ID })), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'spec', name: "another tenant's dataset", send: job((f) => ({ datasetId: f.otherDatasetId })), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'spec', name: 'a warm start from no model', send: spiralJob({ warmStartModelId: NO_SUCH_ID }), expect: bad(404, 'MODEL_NOT_FOUND') },
  { group: 'spec', name: "a warm start from another tenant's model", send: job((f) => ({ datasetId: f.spiralId, warmStartModelId: f.otherModelId })), expect: bad(404, 'MODEL_NOT_FOUND') },
  { group: 'spec', name: 'a warm start from a model of other features', send: job((f) => ({ datasetId: f.spiralId, warmStartModelId: f.irisModelId })), expect: bad(400, 'JOB_SPEC_INVALID') },
  { group: 'spec', name: 'malformed JSON', send: (f) => http(f.app, 'post', '/v1/jobs', { auth: f.tenant.auth, body: '{"datasetId": ', contentType: 'application/json' }), expect: bad(400, 'INVALID_JSON') },
  { group: 'spec', name: 'an array body', send: (f) => http(f.app, 'post', '/v1/jobs', { auth: f.tenant.auth, body: '[]', contentType: 'application/json' }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'a text/plain body', send: (f) => http(f.app, 'post', '/v1/jobs', { auth: f.tenant.auth, body: 'datasetId=x', contentType: 'text/plain' }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'upload', name: 'synthetic: a text/plain body', send: (f) => http(f.app, 'post', '/v1/datasets/synthetic', { auth: f.tenant.auth, body: 'kind=spiral', contentType: 'text/plain' }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'spec', name: 'dryRun=maybe', send: job((f) => ({ datasetId: f.spiralId }), '?dryRun=maybe'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'spec', name: 'a bad key', send: (f) => http(f.app, 'post', '/v1/jobs', { auth: { authorization: 'Bearer ty_nope_nope' }, body: { datasetId: f.spiralId } }), expect: bad(401, 'UNAUTHENTICATED') },

  // Prediction bodies and model imports
  { group: 'predict', name: 'a row of the wrong width', send: predict({ rows: [IRIS_ROW, [1, 2, 3]] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'width', row: 1, expected: 4, got: 3 }) },
  { group: 'predict', name: 'an unknown feature', send: predict({ rows: [{ sepal_length: 1, sepal_width: 2, petal_length: 3, petal_len: 4 }] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'unknown-feature', row: 0, feature: 'petal_len' }) },
  { group: 'predict', name: 'a missing feature', send: predict({ dataframe_records: [{ sepal_length: 1, sepal_width: 2, petal_length: 3 }] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'missing-feature', row: 0, feature: 'petal_width' }) },
  { group: 'predict', name: 'a string', send: predict({ rows: [IRIS_ROW, [1, 2, 'x', 4]] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'not-a-number', row: 1, column: 2, feature: 'petal_length' }) },
  { group: 'predict', name: 'a numeric string', send: predict({ rows: [[1, 2, '3', 4]] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'not-a-number', row: 0, column: 2 }) },
  { group: 'predict', name: 'null', send: predict({ rows: [[1, 2, null, 4]] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'not-a-number', row: 0, column: 2 }) },
  { group: 'predict', name: 'a value beyond float32', send: predict({ rows: [IRIS_ROW, [1, 2, 3, 1e39]] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'out-of-range', row: 1, column: 3 }) },
  { group: 'predict', name: 'more rows than MAX_PREDICT_ROWS', send: predict({ rows: Array.from({ length: 10_001 }, () => IRIS_ROW) }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'too-many-rows', limit: 10_000 }) },
  { group: 'predict', name: 'no rows', send: predict({ rows: [] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'empty' }) },
  { group: 'predict', name: 'an unknown wrapper', send: predict({ data: [IRIS_ROW] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'shape' }) },
  { group: 'predict', name: 'two wrappers at once', send: predict({ rows: [IRIS_ROW], instances: [IRIS_ROW] }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'shape' }) },
  { group: 'predict', name: 'a flat row instead of rows', send: predict({ rows: IRIS_ROW }), expect: bad(400, 'PREDICT_INPUT_INVALID') },
  { group: 'predict', name: 'columns of different lengths', send: predict({ inputs: { sepal_length: [1, 2], sepal_width: [1], petal_length: [1, 2], petal_width: [1, 2] } }), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'shape', feature: 'sepal_width' }) },
  { group: 'predict', name: 'a bare number', send: (f) => http(f.app, 'post', `/v1/models/${f.irisModelId}/predict`, { auth: f.tenant.auth, body: '42', contentType: 'application/json' }), expect: bad(400, 'PREDICT_INPUT_INVALID') },
  { group: 'predict', name: 'malformed JSON', send: (f) => http(f.app, 'post', `/v1/models/${f.irisModelId}/predict`, { auth: f.tenant.auth, body: '{"rows": [[1, 2', contentType: 'application/json' }), expect: bad(400, 'INVALID_JSON') },
  { group: 'predict', name: 'CSV: a non-number', send: predictCsv(`${IRIS_HEADER}\n1,2,3,4\n\n1,2,abc,4\n`), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'not-a-number', row: 1, column: 2, line: 4, feature: 'petal_length' }) },
  { group: 'predict', name: 'CSV: an unknown column', send: predictCsv('sepal_length,sepal_width,petal_length,colour\n1,2,3,4\n'), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'unknown-feature', column: 3, feature: 'colour' }) },
  { group: 'predict', name: 'CSV: a short line', send: predictCsv('1,2,3,4\n1,2,3\n'), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'width', row: 1 }) },
  { group: 'predict', name: 'CSV: an empty body', send: predictCsv(''), expect: bad(400, 'PREDICT_INPUT_INVALID') },
  { group: 'predict', name: 'CSV: a value beyond float32', send: predictCsv('1,2,3,4e38\n'), expect: bad(400, 'PREDICT_INPUT_INVALID', { problem: 'out-of-range', row: 0, column: 3 }) },
  { group: 'predict', name: 'CSV: header=maybe', send: predictCsv('1,2,3,4\n', '?header=maybe'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'predict', name: 'a text/plain body', send: (f) => http(f.app, 'post', `/v1/models/${f.irisModelId}/predict`, { auth: f.tenant.auth, body: '1,2,3,4', contentType: 'text/plain' }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'predict', name: 'a model of no one', send: (f) => http(f.app, 'post', `/v1/models/${NO_SUCH_ID}/predict`, { auth: f.tenant.auth, body: { rows: [IRIS_ROW] } }), expect: bad(404, 'MODEL_NOT_FOUND') },
  { group: 'predict', name: "another tenant's model", send: (f) => http(f.app, 'post', `/v1/models/${f.otherModelId}/predict`, { auth: f.tenant.auth, body: { rows: [IRIS_ROW] } }), expect: bad(404, 'MODEL_NOT_FOUND') },
  { group: 'predict', name: 'import: a damaged weights checksum', send: importModel((d) => ({ ...d, weights: { ...(d.weights as object), sha256: '0'.repeat(64) } })), expect: bad(400, 'MODEL_IMPORT_INVALID', { path: 'weights.sha256' }) },
  { group: 'predict', name: 'import: no weights', send: importModel(({ weights: _w, ...rest }) => rest), expect: bad(400, 'MODEL_IMPORT_INVALID') },
  { group: 'predict', name: 'import: another format', send: importModel((d) => ({ ...d, format: 'onnx' })), expect: bad(400, 'MODEL_IMPORT_INVALID') },
  { group: 'predict', name: 'import: a text/plain body', send: (f) => http(f.app, 'post', '/v1/models/import', { auth: f.tenant.auth, body: 'weights', contentType: 'text/plain' }), expect: bad(415, 'UNSUPPORTED_MEDIA_TYPE') },
  { group: 'predict', name: 'import: duplicate feature names', send: importModel((d) => ({ ...d, featureNames: ['a', 'a', 'b', 'c'] })), expect: bad(400, 'MODEL_IMPORT_INVALID') },

  // WebSocket streams: refused upgrades (HTTP answers before the upgrade), then frames on accepted streams
  { group: 'websocket', name: 'upgrade: no key', send: stream((f) => `/v1/jobs/${f.runningJobId}/stream`, () => ({})), expect: bad(401, 'UNAUTHENTICATED') },
  { group: 'websocket', name: 'upgrade: a bad key', send: stream((f) => `/v1/jobs/${f.runningJobId}/stream`, () => ({ authorization: 'Bearer ty_nope_nope' })), expect: bad(401, 'UNAUTHENTICATED') },
  { group: 'websocket', name: 'upgrade: a bad ?access_token', send: stream((f) => `/v1/jobs/${f.runningJobId}/stream?access_token=ty_nope_nope`, () => ({})), expect: bad(401, 'UNAUTHENTICATED') },
  { group: 'websocket', name: 'upgrade: an unknown job', send: stream(() => `/v1/jobs/${NO_SUCH_ID}/stream`), expect: bad(404, 'JOB_NOT_FOUND') },
  { group: 'websocket', name: "upgrade: another tenant's job", send: stream((f) => `/v1/jobs/${f.otherJobId}/stream`), expect: bad(404, 'JOB_NOT_FOUND') },
  { group: 'websocket', name: 'upgrade: a job id that is not a uuid', send: stream(() => '/v1/jobs/not-a-uuid/stream'), expect: bad(404, 'JOB_NOT_FOUND') },
  { group: 'websocket', name: 'upgrade: since=-5', send: stream((f) => `/v1/jobs/${f.runningJobId}/stream?since=-5`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'websocket', name: 'upgrade: since=abc', send: stream((f) => `/v1/jobs/${f.runningJobId}/stream?since=abc`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'websocket', name: 'upgrade: since=1.5', send: stream((f) => `/v1/jobs/${f.runningJobId}/stream?since=1.5`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'websocket', name: 'frame: a text frame (1008)', send: (f) => upgrade(f.wsBase, `/v1/jobs/${f.runningJobId}/stream`, f.tenant.auth, sendFrame('subscribe please', false)), expect: { close: 1008 } },
  { group: 'websocket', name: 'frame: a binary frame of exactly 1 KiB (1008)', send: (f) => upgrade(f.wsBase, `/v1/jobs/${f.runningJobId}/stream`, f.tenant.auth, sendFrame(Buffer.alloc(1024, 7), true)), expect: { close: 1008 } },
  { group: 'websocket', name: 'frame: a frame of 1 KiB + 1 byte (1009)', send: (f) => upgrade(f.wsBase, `/v1/jobs/${f.runningJobId}/stream`, f.tenant.auth, sendFrame(Buffer.alloc(1025, 7), true)), expect: { close: 1009 } },
  { group: 'websocket', name: 'frame: a 64 KiB text frame (1009)', send: (f) => upgrade(f.wsBase, `/v1/jobs/${f.runningJobId}/stream`, f.tenant.auth, sendFrame('x'.repeat(65_536), false)), expect: { close: 1009 } },

  // Path and query parameters
  { group: 'params', name: 'dataset: an id that is not a uuid', send: get(() => '/v1/datasets/not-a-uuid'), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'params', name: 'dataset: a 99-digit id', send: get(() => `/v1/datasets/${'9'.repeat(99)}`), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'params', name: 'dataset: a uuid with a suffix', send: get((f) => `/v1/datasets/${f.spiralId}x/rows`), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'params', name: 'dataset: an upper-case uuid of no dataset', send: get(() => `/v1/datasets/${NO_SUCH_ID.toUpperCase().replace(/0/g, 'F')}`), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'params', name: "dataset: DELETE another tenant's", send: (f) => http(f.app, 'delete', `/v1/datasets/${f.otherDatasetId}`, { auth: f.tenant.auth }), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'params', name: 'dataset: DELETE an id that is not a uuid', send: (f) => http(f.app, 'delete', '/v1/datasets/not-a-uuid', { auth: f.tenant.auth }), expect: bad(404, 'DATASET_NOT_FOUND') },
  { group: 'params', name: 'datasets: limit=0', send: get(() => '/v1/datasets?limit=0'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: limit=101', send: get(() => '/v1/datasets?limit=101'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: limit=-1', send: get(() => '/v1/datasets?limit=-1'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: limit=abc', send: get(() => '/v1/datasets?limit=abc'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: limit=1e400', send: get(() => '/v1/datasets?limit=1e400'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: limit=Infinity', send: get(() => '/v1/datasets?limit=Infinity'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: a cursor that is not one', send: get(() => '/v1/datasets?cursor=bm9wZQ'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'datasets: a cursor of 201 characters', send: get(() => `/v1/datasets?cursor=${'a'.repeat(201)}`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'rows: offset=-1', send: get((f) => `/v1/datasets/${f.spiralId}/rows?offset=-1`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'rows: offset beyond int32', send: get((f) => `/v1/datasets/${f.spiralId}/rows?offset=99999999999`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'rows: offset=1e400', send: get((f) => `/v1/datasets/${f.spiralId}/rows?offset=1e400`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'rows: limit=1001', send: get((f) => `/v1/datasets/${f.spiralId}/rows?limit=1001`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'rows: limit=0.5', send: get((f) => `/v1/datasets/${f.spiralId}/rows?limit=0.5`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'job: an id that is not a uuid', send: get(() => '/v1/jobs/not-a-uuid'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'job: a uuid of no job', send: get(() => `/v1/jobs/${NO_SUCH_ID}`), expect: bad(404, 'JOB_NOT_FOUND') },
  { group: 'params', name: "job: another tenant's", send: get((f) => `/v1/jobs/${f.otherJobId}`), expect: bad(404, 'JOB_NOT_FOUND') },
  { group: 'params', name: 'job: cancel with an id that is not a uuid', send: (f) => http(f.app, 'post', '/v1/jobs/not-a-uuid/cancel', { auth: f.tenant.auth }), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: "job: cancel another tenant's", send: (f) => http(f.app, 'post', `/v1/jobs/${f.otherJobId}/cancel`, { auth: f.tenant.auth }), expect: bad(404, 'JOB_NOT_FOUND') },
  { group: 'params', name: 'metrics: since=-2', send: get((f) => `/v1/jobs/${f.runningJobId}/metrics?since=-2`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'metrics: limit=10001', send: get((f) => `/v1/jobs/${f.runningJobId}/metrics?limit=10001`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'metrics: an unknown parameter', send: get((f) => `/v1/jobs/${f.runningJobId}/metrics?from=3`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'jobs: status=done', send: get(() => '/v1/jobs?status=done'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'jobs: a datasetId that is not a uuid', send: get(() => '/v1/jobs?datasetId=nope'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'jobs: a cursor that is not one', send: get(() => '/v1/jobs?cursor=zzz'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'jobs: limit=0', send: get(() => '/v1/jobs?limit=0'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'model: an id that is not a uuid', send: get(() => '/v1/models/not-a-uuid'), expect: bad(404, 'MODEL_NOT_FOUND') },
  { group: 'params', name: 'model: export of no model', send: get(() => `/v1/models/${NO_SUCH_ID}/export`), expect: bad(404, 'MODEL_NOT_FOUND') },
  { group: 'params', name: 'models: limit=101', send: get(() => '/v1/models?limit=101'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'models: limit=1e400', send: get(() => '/v1/models?limit=1e400'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'models: a cursor that is not one', send: get(() => '/v1/models?cursor=%%%'), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'decision grid: resolution=1', send: get((f) => `/v1/models/${f.spiralModelId}/decision-grid?resolution=1`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'decision grid: resolution=201', send: get((f) => `/v1/models/${f.spiralModelId}/decision-grid?resolution=201`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'decision grid: resolution=1e400', send: get((f) => `/v1/models/${f.spiralModelId}/decision-grid?resolution=1e400`), expect: bad(400, 'VALIDATION_FAILED') },
  { group: 'params', name: 'decision grid: a 4-input model', send: get((f) => `/v1/models/${f.irisModelId}/decision-grid`), expect: bad(400, 'MODEL_NOT_2D') },
];

