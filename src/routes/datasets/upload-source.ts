/**
 * An upload request → its format, options and byte stream, counted against the upload limit. Two shapes:
 *   raw        Content-Type text/csv or application/json; the body is the dataset; options in the query string
 *   multipart  multipart/form-data: option fields first, then ONE file part (the dataset), and nothing after it
 * The body is streamed, never buffered.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { ApiError, apiError } from '../../errors.js';
import { limitBytes } from '../../datasets/readers/byte-limit.js';
import { checkOptionsFit, mergeUploadOptions, parseUploadOptions, type UploadFormat, type UploadOptions } from './upload-options.js';

export interface UploadSource {
  format: UploadFormat;
  options: UploadOptions;
  /** The file part's name (multipart), else null. */
  filename: string | null;
  bytes: AsyncIterable<Uint8Array>;
  /** Multipart: refuses parts after the file. */
  beforeCommit?: () => Promise<void>;
}

/** Content types a raw upload may have. */
export const RAW_TYPES: Readonly<Record<string, UploadFormat>> = { 'text/csv': 'csv', 'application/json': 'json' };

/** The request's upload: its Content-Length (when given) checked against `limit`, then raw or multipart. */
export async function uploadSource(request: FastifyRequest, query: UploadOptions, limit: number): Promise<UploadSource> {
  const length = Number(request.headers['content-length']);
  if (length > limit) throw apiError('PAYLOAD_TOO_LARGE', `The upload is ${length} bytes; the limit is ${limit}`, { limit });
  if (request.isMultipart()) return multipartSource(request, query, limit);
  if (request.body) return rawSource(request, query, limit);
  throw apiError('UNSUPPORTED_MEDIA_TYPE', 'Send the dataset as text/csv, application/json or multipart/form-data');
}

function rawSource(request: FastifyRequest, query: UploadOptions, limit: number): UploadSource {
  const format = formatOf(request.headers['content-type'], null, query.format);
  checkOptionsFit(format, query);
  const body = request.body as Readable;
  // destroyOnReturn false: when the upload is refused early, the request must stay open for the answer.
  const bytes = failingAs(body.iterator({ destroyOnReturn: false }), bodyCutOff);
  return { format, options: query, filename: null, bytes: limitBytes(bytes, limit) };
}

async function multipartSource(request: FastifyRequest, query: UploadOptions, limit: number): Promise<UploadSource> {
  // fileSize one past the limit so that limitBytes, not busboy's silent truncation, reports an oversized file.
  const parts = request.parts({ limits: { fileSize: limit + 1, fields: 20, fieldSize: 1000, parts: 30 } });
  const fields: Record<string, string> = {};
  for (;;) {
    const next = await nextPart(parts);
    if (next.done) throw apiError('DATASET_MALFORMED', 'The form has no file part; send the dataset as a file (a part with a filename)');
    const part = next.value;
    if (part.type === 'field') {
      if (part.valueTruncated || part.fieldnameTruncated) throw invalidField(part.fieldname, 'is too long (send the dataset as a file part)');
      if (part.fieldname in fields) throw invalidField(part.fieldname, 'is given twice');
      fields[part.fieldname] = String(part.value);
      continue;
    }
    const options = mergeUploadOptions(query, parseUploadOptions(fields, 'form'));
    const format = formatOf(part.mimetype, part.filename, options.format);
    checkOptionsFit(format, options);
    return {
      format,
      options,
      filename: part.filename,
      bytes: limitBytes(failingAs(part.file, multipartProblem), limit),
      beforeCommit: async () => {
        const after = await nextPart(parts);
        if (after.done) return;
        if (after.value.type === 'file') after.value.file.resume();
        throw apiError('DATASET_MALFORMED', `The form has a part "${after.value.fieldname}" after the file; send options before the file, and one file only`);
      },
    };
  }
}

/**
 * The dataset's format: the `format` option, else the media type, else the file name's extension. The option and a
 * CSV or JSON media type must agree.
 */
function formatOf(contentType: string | undefined, filename: string | null, option: UploadFormat | undefined): UploadFormat {
  const media = contentType?.split(';')[0]!.trim().toLowerCase() ?? '';
  const byMedia = RAW_TYPES[media];
  if (option && byMedia && option !== byMedia) {
    throw apiError('VALIDATION_FAILED', `format=${option} contradicts the content type ${media}`, { errors: [{ path: 'format', message: `contradicts ${media}` }] });
  }
  const extension = filename ? path.extname(filename).toLowerCase() : '';
  const byExtension: UploadFormat | undefined = extension === '.csv' ? 'csv' : extension === '.json' ? 'json' : undefined;
  const format = option ?? byMedia ?? byExtension;
  if (!format) {
    throw apiError('UNSUPPORTED_MEDIA_TYPE', `Cannot tell the format of ${filename ? `"${filename}"` : 'the upload'} (${media || 'no content type'}); send text/csv or application/json, a .csv or .json file, or format=csv|json`, {
      contentType: media,
    });
  }
  return format;
}

function invalidField(name: string, message: string): ApiError {
  return apiError('VALIDATION_FAILED', `form.${name} ${message}`, { errors: [{ path: `form.${name}`, message }] });
}

async function nextPart(parts: AsyncIterableIterator<Multipart>): Promise<IteratorResult<Multipart>> {
  try {
    return await parts.next();
  } catch (error) {
    throw multipartProblem(error);
  }
}

/** A body stream that fails (client gone, multipart framing broken) fails the upload with a 4xx, not a server error. */
async function* failingAs(source: AsyncIterable<unknown>, problem: (error: unknown) => ApiError): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk as Uint8Array;
  } catch (error) {
    throw problem(error);
  }
}

function bodyCutOff(error: unknown): ApiError {
  return error instanceof ApiError ? error : apiError('DATASET_MALFORMED', `The request body was cut off: ${(error as Error).message}`);
}

function multipartProblem(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const e = error as Error & { statusCode?: number };
  if (e.statusCode === 413) return apiError('PAYLOAD_TOO_LARGE', `The form is too large: ${e.message}`);
  return apiError('DATASET_MALFORMED', `The multipart body is malformed: ${e.message}`);
}
