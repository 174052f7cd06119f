/** `trainyard datasets …`: upload, synthetic, example, list, show, rows, delete. */
import { openAsBlob } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { Dataset, SyntheticSpec } from '../../client/node.js';
import { contextOf, integer, number } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { fields, formatNumber, print, table } from '../output.js';

const SYNTHETIC_KINDS = ['spiral', 'circles', 'xor', 'moons', 'blobs', 'sine'] as const;

function describe(d: Dataset): string {
  const head = fields([
    ['id', d.id], ['name', d.name], ['source', d.source], ['task', d.task], ['rows', d.rows], ['features', d.features],
    ['target', d.targetName], ['size', `${d.byteSize} bytes`], ['created', d.createdAt],
  ]);
  const classes = d.task === 'classification' ? `\n\n${table(d.classNames.map((c, i) => [c, d.classCounts[i] ?? 0]), ['class', 'rows'])}` : '';
  const stats = table(d.featureNames.map((f, i) => {
    const s = d.stats[i]!;
    return [f, s.mean, s.std, s.min, s.max];
  }), ['feature', 'mean', 'std', 'min', 'max']);
  return `${head}${classes}\n\n${stats}`;
}

export function datasetsCommand(program: Command): void {
  const datasets = program.command('datasets').description('upload, generate and inspect datasets');

  datasets.command('upload <file>').description('upload a CSV or JSON file (streamed)')
    .option('--target <column>', 'the target column: a name or 0-based index (default: the last)')
    .option('--name <name>', 'the dataset name (default: the file name)')
    .option('--format <format>', 'csv or json (default: from the extension)')
    .option('--task <task>', 'classification or regression (default: inferred)')
    .option('--no-header', 'CSV: the first line is data')
    .option('--delimiter <char>', "CSV: one character or 'tab'")
    .action(async (file: string, o: { target?: string; name?: string; format?: string; task?: string; header: boolean; delimiter?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const format = o.format ?? (extname(file).toLowerCase() === '.json' ? 'json' : 'csv');
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json (got ${format})`);
      const blob = await openAsBlob(file).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`Cannot read ${file}: ${error.code ?? error.message}`);
      });
      const name = o.name ?? file.split(/[\\/]/).pop()!.replace(/\.(csv|json|tsv|txt)$/i, '');
      const dataset = await ty.datasets.upload(blob, {
        format, name, target: o.target, task: o.task, delimiter: o.delimiter, ...(format === 'csv' && !o.header && { header: 'false' }),
      });
      print(out, dataset, () => console.log(describe(dataset)));
    });

  datasets.command('synthetic <kind>').description(`generate a dataset: ${SYNTHETIC_KINDS.join(', ')}`)
    .option('--n <n>', 'points per class (sine: in all)', integer)
    .option('--classes <k>', 'classes (spiral, blobs, circles)', integer)
    .option('--noise <x>', 'noise scale', number)
    .option('--seed <seed>', 'seed (same seed, same data)', integer)
    .option('--name <name>', 'the dataset name')
    .action(async (kind: string, o: { n?: number; classes?: number; noise?: number; seed?: number; name?: string }, cmd: Command) => {
      if (!(SYNTHETIC_KINDS as readonly string[]).includes(kind)) throw new UsageError(`Unknown kind ${kind}; one of ${SYNTHETIC_KINDS.join(', ')}`);
      const { ty, out } = await contextOf(cmd);
      const dataset = await ty.datasets.synthetic({ kind: kind as SyntheticSpec['kind'], n: o.n, classes: o.classes, noise: o.noise, seed: o.seed, name: o.name });
      print(out, dataset, () => console.log(describe(dataset)));
    });

  datasets.command('example <name>').description('a real example dataset: mnist, iris')
    .option('--name <name>', 'the stored dataset name')
    .action(async (name: string, o: { name?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const dataset = await ty.datasets.example(name, { name: o.name });
      print(out, dataset, () => console.log(describe(dataset)));
    });

  datasets.command('list').description('datasets, newest first')
    .option('--limit <n>', 'at most this many (1-100)', integer, 20)
    .option('--cursor <cursor>', 'the next page (nextCursor of the previous one)')
    .action(async (o: { limit: number; cursor?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const page = await ty.datasets.list({ limit: o.limit, cursor: o.cursor });
      print(out, page, () => {
        console.log(table(page.items.map((d) => [d.id, d.name, d.source, d.task, d.rows, d.features, d.classes, d.createdAt]),
          ['id', 'name', 'source', 'task', 'rows', 'features', 'classes', 'created']));
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
      });
    });

  datasets.command('show <id>').description('metadata, classes and per-feature statistics')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const dataset = await ty.datasets.get(id);
      print(out, dataset, () => console.log(describe(dataset)));
    });

  datasets.command('rows <id>').description('preview stored rows (0-based)')
    .option('--offset <n>', 'first row', integer, 0)
    .option('--limit <n>', 'rows (1-1000)', integer, 20)
    .action(async (id: string, o: { offset: number; limit: number }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const rows = await ty.datasets.rows(id, { offset: o.offset, limit: o.limit });
      print(out, rows, () => {
        console.log(table(rows.items.map((r) => [r.row, ...r.x.map(formatNumber), r.label ?? r.y]), ['row', ...rows.featureNames, rows.targetName]));
        console.log(`rows ${rows.offset}-${rows.offset + rows.items.length - 1} of ${rows.total}`);
      });
    });

  datasets.command('delete <id>').description('delete a dataset')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      await ty.datasets.delete(id);
      print(out, { deleted: id }, () => console.log(`deleted dataset ${id}`));
    });
}
