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
import { checkpointList, decodeCursor, dryRunView, encodeCursor, jobView, metricColumns } from './views.js';

export async function jobRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const services = app.services;
  const notFound = (id: string) => apiError('JOB_NOT_FOUND', `No job ${id}`, { jobId: id });

  app.post('/', {
    schema: { querystring: SubmitQuery, body: JobSpecBodySchema, response: { 200: DryRunView, 201: JobView } },
  }, async (request, reply) => {
    const submitted = await submitJob(services, tenantOf(request).id, request.body, request.query.dryRun ?? false, request.log);
    if (submitted.kind === 'dry-run') return reply.code(200).send(dryRunView(submitted.plan));
    return reply.code(201).header('location', `/v1/jobs/${submitted.job.id}`).send(jobView(submitted.job));
  });

  app.get('/', { schema: { querystring: ListQuery, response: { 200: JobList } } }, async (request) => {
    const { status, datasetId, limit, cursor } = request.query;
    const page = await listJobs(services.db, tenantOf(request).id, { status, datasetId }, limit ?? 20, cursor ? decodeCursor(cursor) : null);
    return { items: page.items.map(jobView), nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  app.get('/:id', { schema: { params: JobParams, response: { 200: JobView } } }, async (request) => {
    const job = await getJob(services.db, tenantOf(request).id, request.params.id);
    if (!job) throw notFound(request.params.id);
    return jobView(job);
  });

  app.get('/:id/metrics', { schema: { params: JobParams, querystring: MetricsQuery, response: { 200: MetricColumns } } }, async (request) => {
    const since = request.query.since ?? -1;
    const rows = await listMetrics(services.db, tenantOf(request).id, request.params.id, since, request.query.limit ?? 1000);
    if (!rows) throw notFound(request.params.id);
    return metricColumns(request.params.id, rows, since);
  });

  app.get('/:id/checkpoints', { schema: { params: JobParams, response: { 200: CheckpointList } } }, async (request) => {
    const items = await listCheckpoints(services.db, tenantOf(request).id, request.params.id);
    if (!items) throw notFound(request.params.id);
    return checkpointList(items);
  });

  app.post('/:id/cancel', { schema: { params: JobParams, response: { 200: JobView, 202: JobView } } }, async (request, reply) => {
    const { job, accepted } = await cancelJob(services, tenantOf(request).id, request.params.id, request.log);
    return reply.code(accepted ? 202 : 200).send(jobView(job));
  });
}
