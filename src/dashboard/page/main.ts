/**
 * The dashboard's entry point: signs in (or shows the sign-in form), then renders the view of the hash route
 * (#/jobs, #/jobs/<id>, #/datasets, #/datasets/<id>, #/submit, #/models, #/models/<id>, #/sweeps, #/sweeps/<id>),
 * stopping the previous view's streams and timers first.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, TrainyardError } from './api.js';
import { errorBox, fill } from './dom.js';
import { currentRoute, go, type Route } from './router.js';
import { forgetKey, storedKey } from './session.js';
import { datasetView } from './views/dataset.js';
import { datasetsView } from './views/datasets.js';
import { jobPage } from './views/job.js';
import { jobsView } from './views/jobs.js';
import { modelsView, modelView } from './views/models.js';
import { signInView } from './views/sign-in.js';
import { submitView } from './views/submit.js';
import { sweepsView } from './views/sweeps.js';
import { sweepPage } from './views/sweeps-page.js';
import type { Dispose, View } from './views/view.js';

const root = document.getElementById('view')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
let dispose: Dispose | void = undefined;
let rendering = 0;

function viewFor(route: Route): View {
  const [section = 'jobs', id] = route.parts;
  switch (section) {
    case 'jobs':
      return id ? (el) => jobPage(el, id) : jobsView;
    case 'datasets':
      return id ? (el) => datasetView(el, id) : datasetsView;
    case 'submit':
      return submitView;
    case 'models':
      return id ? (el) => modelView(el, id) : modelsView;
    case 'sweeps':
      return id ? (el) => sweepPage(el, id) : sweepsView;
    default:
      return jobsView;
  }
}

async function whoAmI(): Promise<void> {
  try {
    who.textContent = (await api().me()).tenant.name;
  } catch {
    who.textContent = '';
  }
}

async function render(): Promise<void> {
  const ticket = ++rendering;
  if (typeof dispose === 'function') dispose();
  dispose = undefined;
  if (!storedKey()) {
    nav.hidden = true;
    signInView(root, () => {
      void whoAmI();
      if (currentRoute().parts.length) void render();
      else go('jobs');
    });
    return;
  }
  nav.hidden = false;
  const route = currentRoute();
  nav.querySelectorAll('a').forEach((link) => link.classList.toggle('active', link.getAttribute('href') === `#/${route.parts[0] ?? 'jobs'}`));
  try {
    const result = await viewFor(route)(root, route);
    if (ticket === rendering) dispose = result;
    else if (typeof result === 'function') result(); // a newer route rendered meanwhile
  } catch (error) {
    if (ticket !== rendering) return;
    if (error instanceof TrainyardError && error.status === 401) {
      forgetKey(); // revoked or mistyped: ask again
      void render();
      return;
    }
    fill(root, errorBox(error));
  }
}

document.getElementById('sign-out')!.addEventListener('click', () => {
  forgetKey();
  who.textContent = '';
  go('');
  void render();
});
window.addEventListener('hashchange', () => void render());
if (storedKey()) void whoAmI();
void render();
