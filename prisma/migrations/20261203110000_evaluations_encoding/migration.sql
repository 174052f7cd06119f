-- Evaluation and categorical/missing-value encoding (issue 12, items 2 and 4).
-- Additive only: two JSON columns (nullable, or with a default) and a new table.

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN IF NOT EXISTS "encoding" JSONB;

-- AlterTable
ALTER TABLE "Model" ADD COLUMN IF NOT EXISTS "inputEncoding" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "Evaluation" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenantId" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "datasetId" UUID,
    "task" "DatasetTask" NOT NULL,
    "rows" INTEGER NOT NULL,
    "metrics" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Evaluation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Evaluation_modelId_createdAt_idx" ON "Evaluation"("modelId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "Evaluation" ADD CONSTRAINT "Evaluation_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evaluation" ADD CONSTRAINT "Evaluation_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE SET NULL ON UPDATE CASCADE;
