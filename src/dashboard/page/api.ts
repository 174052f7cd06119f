/**
 * The page's one door to the API: the typed client (src/client/), same origin, with the pasted key. Views import the
 * client's types from here too, so nothing else knows where they come from.
 */
import { Trainyard } from '../../client/index.js';
import { storedKey } from './session.js';

export { isTerminal, Trainyard, TrainyardError } from '../../client/index.js';
export type {
  Dataset, DatasetSummary, DatasetRows, DecisionGridResult, DryRun, Job, JobEvent, JobSpec, JobStream, JobWarning, MetricColumns,
  MetricRecord, Model, ModelSummary, Prediction,
} from '../../client/index.js';

/** A client for this origin with the given key. */
export function connect(key: string): Trainyard {
  return new Trainyard({ url: '', key });
}

let current: Trainyard | null = null;

/** The client of the signed-in key (throws when signed out: the router shows the sign-in view first). */
export function api(): Trainyard {
  const key = storedKey();
  if (!key) throw new Error('Not signed in');
  if (!current || current.key !== key) current = connect(key);
  return current;
}
