/** What every command needs: the client for the resolved connection, and whether to print JSON. */
import { readFile } from 'node:fs/promises';
import { Trainyard } from '../client/node.js';
import { resolveConnection } from './connection.js';
import { UsageError } from './exit-codes.js';
import { InvalidArgumentError, type Command } from 'commander';
import type { OutputOptions } from './output.js';

export interface GlobalFlags {
  url?: string;
  key?: string;
  json?: boolean;
}

export interface Context {
  ty: Trainyard;
  out: OutputOptions;
}

export async function contextOf(command: Command): Promise<Context> {
  const flags = command.optsWithGlobals<GlobalFlags>();
  const connection = await resolveConnection(flags);
  return { ty: new Trainyard(connection), out: { json: flags.json === true } };
}

/** A file's text, or standard input's for `-`. A missing file is a usage error. */
export async function readInput(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function parseJsonInput(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Commander option parsers that refuse what is not a number (usage error, exit 2). */
export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError('Not an integer.');
  return n;
}

export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
  return n;
}
