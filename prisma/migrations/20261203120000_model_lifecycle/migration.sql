-- The model lifecycle (issue 12, item 3) and quiet checkpoints (item 5). Additive: new columns with defaults or
-- nullable, a new table, new indexes. Existing models are numbered per (tenant, name) in creation order.

-- AlterTable
ALTER TABLE "Checkpoint" ADD COLUMN "bestStep" INTEGER;

-- AlterTable
ALTER TABLE "Model" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "description" TEXT,
ADD COLUMN "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN "promotedFromJobId" UUID,
ADD COLUMN "promotedFromStep" INTEGER;

-- Backfill: versions 1, 2, … per tenant and name, oldest first.
UPDATE "Model" m SET "version" = v.n
FROM (SELECT id, row_number() OVER (PARTITION BY "tenantId", name ORDER BY "createdAt", id) AS n FROM "Model") v
WHERE m.id = v.id;

-- Versions are assigned by the database, whatever inserts the row (a finished job, an import, a promotion, a test):
-- on insert, and when the name changes, the row becomes the next version of its (tenant, name), under a
-- transaction-scoped advisory lock on that pair, so two models named at once never get the same number (the unique
-- index below backs it up). Numbers are not reused while a higher one exists.
CREATE FUNCTION "model_assign_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.name IS DISTINCT FROM OLD.name OR NEW."tenantId" IS DISTINCT FROM OLD."tenantId" THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('model-name:' || NEW."tenantId"::text || ':' || NEW.name, 0));
    SELECT COALESCE(MAX(version), 0) + 1 INTO NEW.version FROM "Model" WHERE "tenantId" = NEW."tenantId" AND name = NEW.name AND id <> NEW.id;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "Model_assign_version" BEFORE INSERT OR UPDATE OF name, "tenantId" ON "Model"
  FOR EACH ROW EXECUTE FUNCTION "model_assign_version"();

-- CreateTable
CREATE TABLE "ModelAlias" (
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "modelId" UUID NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("tenantId","name","alias")
);

-- CreateIndex
CREATE INDEX "ModelAlias_modelId_idx" ON "ModelAlias"("modelId");

-- CreateIndex
CREATE UNIQUE INDEX "Model_tenantId_name_version_key" ON "Model"("tenantId", "name", "version");

-- CreateIndex
CREATE UNIQUE INDEX "Model_promotedFromJobId_promotedFromStep_key" ON "Model"("promotedFromJobId", "promotedFromStep");

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_promotedFromJobId_fkey" FOREIGN KEY ("promotedFromJobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE CASCADE ON UPDATE CASCADE;
