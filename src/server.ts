/** The API process: listen, create the default tenant on first start, shut down gracefully. */
import { build } from './app.js';
import { readMigrations, pendingMigrations } from './db/migrations.js';
import { bootstrapDefaultTenant } from './db/repositories/tenants.js';
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

const created = await bootstrapDefaultTenant(services.db);
if (created) {
  console.log(`No tenant existed, so tenant "default" was created. Its API key is shown once; store it now:\n${created.key}`);
}

const app = await build(services);
onShutdownSignal(async () => {
  await app.close();
}, (message) => app.log.info(message));

const address = await app.listen({ host: config.host, port: config.port });
console.log(`Trainyard API listening on ${address}`);
notifyParent({ type: 'listening', url: address });
