/**
 * /v1/jobs: submit (or dry-run) a training job, list and read jobs, their metrics and checkpoints, cancel.
 * Validation is TypeBox's own (strict: unknown fields are errors, never silently dropped); the spec's defaults are
 * filled by src/jobs/plan.ts, so the stored spec is complete.
 */
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../auth/plugin.js';
import { getJob, listCheckpoints, listJobs, listMetrics } from '../../db/repositories/jobs.js';
import { apiError } from '../../errors.js';
import { cancelJob } from '../../jobs/cancel.js';
import { JobSpecBodySchema } from '../../jobs/spec-schema.js';
import { submitJob } from '../../jobs/submit.js';
import {
  CheckpointList, DryRunView, JobList, JobParams, JobView, ListQuery, MetricColumns, MetricsQuery, SubmitQuery,
} from './schemas.js';
import { jobLifecycleRoutes } from './lifecycle.js';
import { checkpointList, dryRunView, jobView, metricColumns } from './views.js';
import { decodePageCursor, encodePageCursor } from '../../http/page-cursor.js';
import { example } from '../../http/openapi-docs.js';
import { CHECKPOINTS_EXAMPLE, DRY_RUN_EXAMPLE, JOB_EXAMPLE, JOB_SPEC_EXAMPLE, METRICS_EXAMPLE } from '../../http/openapi-examples.js';

export async function jobRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const services = app.services;
  const notFound = (id: string) => apiError('JOB_NOT_FOUND', `No job ${id}`, { jobId: id });

  app.post('/', {
    schema: {
      summary: 'Submit a training job (or plan it: ?dryRun=true)',
      description: 'The body is the job spec; everything but `datasetId` has a default. 201 with the queued job; with `?dryRun=true`, '
        + '200 with the layer table, parameter count and step counts, nothing queued.',
      tags: ['jobs'],
      querystring: SubmitQuery,
      body: example(JobSpecBodySchema, JOB_SPEC_EXAMPLE),
      response: { 200: example(DryRunView, DRY_RUN_EXAMPLE), 201: example(JobView, { ...JOB_EXAMPLE, status: 'queued', worker: null, startedAt: null }) },
      errors: ['DATASET_NOT_FOUND', 'MODEL_NOT_FOUND', 'JOB_SPEC_INVALID', 'JOB_TOO_LARGE', 'TENANT_QUEUE_FULL'],
    },
  }, async (request, reply) => {
    const submitted = await submitJob(services, tenantOf(request).id, request.body, request.query.dryRun ?? false, request.log);
    if (submitted.kind === 'dry-run') return reply.code(200).send(dryRunView(submitted.plan));
    return reply.code(201).header('location', `/v1/jobs/${submitted.job.id}`).send(jobView(submitted.job));
  });

  app.get('/', {
    schema: {
      summary: 'List jobs, newest first', tags: ['jobs'], querystring: ListQuery,
      response: { 200: example(JobList, { items: [JOB_EXAMPLE], nextCursor: null }) }, errors: [],
    },
  }, async (request) => {
    const { status, datasetId, limit, cursor } = request.query;
    const page = await listJobs(services.db, tenantOf(request).id, { status, datasetId }, limit ?? 20, cursor ? decodePageCursor(cursor) : null);
    return { items: page.items.map(jobView), nextCursor: page.next ? encodePageCursor(page.next) : null };
  });

  app.get('/:id', {
    schema: { summary: "A job: status, progress, metrics, warnings", tags: ['jobs'], params: JobParams, response: { 200: example(JobView, JOB_EXAMPLE) }, errors: ['JOB_NOT_FOUND'] },
  }, async (request) => {
    const job = await getJob(services.db, tenantOf(request).id, request.params.id);
    if (!job) throw notFound(request.params.id);
    return jobView(job);
  });

  app.get('/:id/metrics', {
    schema: {
      summary: 'The learning curve, as columns', tags: ['jobs'], params: JobParams, querystring: MetricsQuery,
      response: { 200: example(MetricColumns, METRICS_EXAMPLE) }, errors: ['JOB_NOT_FOUND'],
    },
  }, async (request) => {
    const since = request.query.since ?? -1;
    const rows = await listMetrics(services.db, tenantOf(request).id, request.params.id, since, request.query.limit ?? 1000);
    if (!rows) throw notFound(request.params.id);
    return metricColumns(request.params.id, rows, since);
  });

  app.get('/:id/checkpoints', {
    schema: { summary: "A job's kept checkpoints", tags: ['jobs'], params: JobParams, response: { 200: example(CheckpointList, CHECKPOINTS_EXAMPLE) }, errors: ['JOB_NOT_FOUND'] },
  }, async (request) => {
    const items = await listCheckpoints(services.db, tenantOf(request).id, request.params.id);
    if (!items) throw notFound(request.params.id);
    return checkpointList(items);
  });

  app.post('/:id/cancel', {
    schema: {
      summary: 'Cancel a job (200 at once when queued, 202 while the worker stops)', tags: ['jobs'], params: JobParams,
      response: { 200: example(JobView, { ...JOB_EXAMPLE, status: 'cancelled' }), 202: example(JobView, { ...JOB_EXAMPLE, cancelRequested: true }) },
      errors: ['JOB_NOT_FOUND', 'JOB_NOT_CANCELLABLE'],
    },
  }, async (request, reply) => {
    const { job, accepted } = await cancelJob(services, tenantOf(request).id, request.params.id, request.log);
    return reply.code(accepted ? 202 : 200).send(jobView(job));
  });

  await app.register(jobLifecycleRoutes);
}
