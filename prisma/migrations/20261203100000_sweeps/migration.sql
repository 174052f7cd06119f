-- Hyperparameter sweeps (issue 12, item 1): the Sweep table, trials as Jobs linked to it, and the `pruned` job status.
-- Additive only: a new enum value, a new enum and table, nullable Job columns.

-- AlterEnum
ALTER TYPE "JobStatus" ADD VALUE IF NOT EXISTS 'pruned';

-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "Sweep" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "datasetId" UUID NOT NULL,
    "baseSpec" JSONB NOT NULL,
    "parameters" JSONB NOT NULL,
    "method" TEXT NOT NULL,
    "methodOptions" JSONB NOT NULL,
    "metric" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "maxConcurrent" INTEGER NOT NULL,
    "trials" JSONB NOT NULL,
    "trialCount" INTEGER NOT NULL,
    "releasedTrials" INTEGER NOT NULL DEFAULT 0,
    "status" "SweepStatus" NOT NULL DEFAULT 'running',
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "sweepId" UUID,
ADD COLUMN "sweepTrial" INTEGER,
ADD COLUMN "sweepParameters" JSONB,
ADD COLUMN "sweepRung" INTEGER;

-- CreateIndex
CREATE INDEX "Sweep_tenantId_createdAt_idx" ON "Sweep"("tenantId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");

-- CreateIndex
CREATE UNIQUE INDEX "Job_sweepId_sweepTrial_key" ON "Job"("sweepId", "sweepTrial");

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE SET NULL ON UPDATE CASCADE;
