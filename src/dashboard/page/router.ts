/** Hash routes (`#/jobs/<id>`), so that / serves every view and a reload stays on it. */
export interface Route {
  /** Path segments after '#/'. */
  parts: string[];
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = hash.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function go(path: string): void {
  location.hash = `#/${path}`;
}
