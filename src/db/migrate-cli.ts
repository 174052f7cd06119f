/** `npm run db:migrate`: creates the database if needed and applies pending migrations. */
import { loadConfig } from '../config.js';
import { ensureDatabase } from './ensure-database.js';
import { migrate } from './migrations.js';
import { redactUrl } from './postgres-url.js';

const config = loadConfig();
try {
  if (await ensureDatabase(config.databaseUrl)) console.log(`Created database ${redactUrl(config.databaseUrl)}`);
  const applied = await migrate(config.databaseUrl);
  console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Database is up to date');
} catch (error) {
  console.error(`Migration failed for ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`);
  process.exitCode = 1;
}
