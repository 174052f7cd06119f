/** `trainyard models …`: list, show, predict, grid, export, import, delete. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Model, ModelDocument, Prediction } from '../../client/node.js';
import { contextOf, integer, parseJsonInput, readInput } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { renderGrid } from '../grid.js';
import { cell, fields, formatNumber, print, printJson, table } from '../output.js';

function describe(m: Model): string {
  const head = fields([
    ['id', m.id], ['name', m.name], ['task', m.task], ['parameters', m.parameterCount], ['inputs', m.featureNames.join(', ')],
    ['classes', m.classNames.length ? m.classNames.join(', ') : null], ['preprocessing', m.preprocessing.type], ['job', m.jobId],
    ['dataset', m.datasetId], ['created', m.createdAt], ['metrics', m.metrics],
  ]);
  const layers = table(m.layers.map((l) => [l.name, l.kind, l.activation, l.inputs, l.outputs, l.params]), ['layer', 'kind', 'activation', 'inputs', 'outputs', 'params']);
  return `${head}\n\n${layers}`;
}

function predictionRow(p: Prediction, i: number): unknown[] {
  if ('value' in p) return [i, p.value, null];
  const scores = 'probabilities' in p ? p.probabilities : p.scores;
  return [i, p.class, scores[p.class] ?? null];
}

export function modelsCommand(program: Command): void {
  const models = program.command('models').description('list, inspect, serve and move trained models');

  models.command('list').description('models, newest first')
    .option('--limit <n>', 'at most this many (1-100)', integer, 20)
    .option('--cursor <cursor>', 'the next page')
    .action(async (o: { limit: number; cursor?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const page = await ty.models.list({ limit: o.limit, cursor: o.cursor });
      print(out, page, () => {
        console.log(table(page.items.map((m) => [m.id, m.name, m.task, m.inputs, m.classes, m.parameterCount, m.createdAt]),
          ['id', 'name', 'task', 'inputs', 'classes', 'parameters', 'created']));
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
      });
    });

  models.command('show <id>').description('spec, layers, features, classes, metrics')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const model = await ty.models.get(id);
      print(out, model, () => console.log(describe(model)));
    });

  models.command('predict <id> <input>').description('predict rows from a CSV or JSON file, or - for standard input')
    .option('--no-header', 'CSV: the first line is data (default: detected)')
    .action(async (id: string, input: string, o: { header: boolean }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const text = await readInput(input);
      const trimmed = text.trimStart();
      const result = trimmed.startsWith('[') || trimmed.startsWith('{')
        ? await ty.models.predictBody(id, parseJsonInput(text, input === '-' ? 'standard input' : input))
        : await ty.models.predictCsv(id, text, o.header ? {} : { header: false });
      print(out, result, () => {
        const head = result.task === 'regression' ? ['row', 'value'] : ['row', 'class', 'p'];
        console.log(table(result.predictions.map((p, i) => predictionRow(p, i).slice(0, head.length)), head));
      });
    });

  models.command('grid <id>').description("draw a 2-input model's decision regions in the terminal")
    .option('--resolution <n>', 'points per axis (2-200)', integer, 48)
    .option('--no-color', 'letters instead of colours')
    .action(async (id: string, o: { resolution: number; color: boolean }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const grid = await ty.models.decisionGrid(id, { resolution: o.resolution });
      if (out.json) return printJson(grid);
      const colour = o.color && process.stdout.isTTY === true && !process.env.NO_COLOR;
      console.log(renderGrid(grid, colour));
    });

  models.command('export <id>').description('the model as one JSON document (stdout, or --output file)')
    .option('-o, --output <file>', 'write it to this file')
    .action(async (id: string, o: { output?: string }, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const document = await ty.models.export(id);
      if (!o.output) return printJson(document);
      await writeFile(o.output, `${JSON.stringify(document)}\n`);
      print(out, { exported: id, file: o.output }, () => console.log(`exported model ${id} to ${o.output}`));
    });

  models.command('import <file>').description('a model document (from export) back as a new model; - for stdin')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      const document = parseJsonInput(await readInput(file), file === '-' ? 'standard input' : file);
      if (typeof document !== 'object' || document === null) throw new UsageError(`${file} does not hold a model document`);
      const model = await ty.models.import(document as ModelDocument);
      print(out, model, () => console.log(`imported model ${model.id} (${model.name}, ${formatNumber(model.parameterCount)} parameters)`));
    });

  models.command('delete <id>').description('delete a model')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { ty, out } = await contextOf(cmd);
      await ty.models.delete(id);
      print(out, { deleted: id }, () => console.log(`deleted model ${cell(id)}`));
    });
}
