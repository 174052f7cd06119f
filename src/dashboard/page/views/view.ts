/** What a view is: it fills the main element and may return a function that stops what it started (streams, timers). */
import type { Route } from '../router.js';

export type Dispose = () => void;
export type View = (root: HTMLElement, route: Route) => Promise<Dispose | void> | Dispose | void;
