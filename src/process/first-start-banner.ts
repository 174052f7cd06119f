/**
 * What the API prints once, on its very first start (no tenant in the database): the `default` tenant's API key in a
 * box that stands out from the log lines around it, saying that it will not be shown again and how to make more keys.
 * The key is alone on its line inside the box (`│  ty_…  │`), so that a double-click selects it. Printed with
 * console.log, never through the logger (which would redact it).
 */

/** The box's lines (no trailing newline). `color`: bold yellow frame and bold key, for a terminal. */
export function firstStartBanner(key: string, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const frame = (text: string) => (color ? `\x1b[1;33m${text}\x1b[0m` : text);
  const strong = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);
  const body: [string, ((text: string) => string)?][] = [
    ['FIRST START: created tenant "default" and its API key:'],
    [''],
    [`    ${key}`, strong],
    [''],
    ['Store it now: it is shown only this once and will not be shown again.'],
    ['Use it as   Authorization: Bearer <key>'],
    ['More keys   npm run keys -- create --tenant <name>'],
    ['  (Docker)  docker compose exec api npm run keys -- create --tenant <name>'],
  ];
  const width = Math.max(...body.map(([text]) => text.length)) + 4;
  const line = (text: string, style?: (text: string) => string) => `${frame('│')}  ${style ? style(text) : text}${' '.repeat(width - text.length - 2)}${frame('│')}`;
  return [
    frame(`┌${'─'.repeat(width)}┐`),
    ...body.map(([text, style]) => line(text, style)),
    frame(`└${'─'.repeat(width)}┘`),
  ].join('\n');
}
