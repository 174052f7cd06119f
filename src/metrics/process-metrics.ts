/**
 * prom-client's standard process metrics (CPU, memory, heap, event-loop lag, GC, handles), collected once per process
 * into a registry of their own that the API's and the worker's registries merge (an API process may build several
 * apps, e.g. in tests; the process is measured once).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | null = null;

export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
