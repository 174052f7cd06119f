/** Runs the `trainyard` command as a user does (the package's bin launcher), with standard input and no TRAINYARD_* from outside. */
import { spawn } from 'node:child_process';
import { ROOT, runProcess } from '../helpers/processes.js';
import { uniqueName } from '../helpers/app.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRAINYARD_'))) as Record<string, string>;
  const child = spawn(process.execPath, ['bin/trainyard.mjs', ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A new tenant's key, made with `npm run keys -- create` (its last line). */
export async function createKeyWithCli(env: Record<string, string>): Promise<string> {
  const created = await runProcess('src/cli/keys.ts', ['create', '--tenant', uniqueName('cli')], env);
  if (created.code !== 0) throw new Error(created.output);
  return created.stdout.trimEnd().split('\n').at(-1)!;
}
