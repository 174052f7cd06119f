/** The API process: listen, create the default tenant on first start, shut down gracefully. */
import { build } from './app.js';
import { readMigrations, pendingMigrations } from './db/migrations.js';
import { bootstrapDefaultTenant } from './db/repositories/tenants.js';
import { firstStartBanner } from './process/first-start-banner.js';
import { listenProblem } from './process/listen-problem.js';
import { notifyParent, onShutdownSignal, startupOrExit } from './process/lifecycle.js';
import { createServices } from './services.js';

const config = await startupOrExit('api');
const services = createServices(config);

const pending = await pendingMigrations((sql) => services.db.$queryRawUnsafe(sql), await readMigrations());
if (pending.length) {
  console.error(`trainyard api: the database has ${pending.length} pending migration(s) (${pending.join(', ')}). Run \`npm run db:migrate\`.`);
  await services.close();
  process.exit(1);
}

const app = await build(services);
onShutdownSignal(async () => {
  await app.close();
}, (message) => app.log.info(message));

let address: string;
try {
  address = await app.listen({ host: config.host, port: config.port });
} catch (error) {
  const problem = listenProblem((error as NodeJS.ErrnoException).code, config.host, config.port);
  if (!problem) throw error;
  console.error(`trainyard api: ${problem}`);
  await app.close().catch(() => undefined);
  process.exit(1);
}

// Only once the API listens: a start that fails (a taken port) creates nothing and prints no key.
const created = await bootstrapDefaultTenant(services.db);
if (created) console.log(`\n${firstStartBanner(created.key, { color: process.stdout.isTTY === true })}\n`);

console.log(`Trainyard API listening on ${address}`);
notifyParent({ type: 'listening', url: address });
