/**
 * Where the server is and which key to use: `--url`/`--key` flags, else TRAINYARD_URL / TRAINYARD_KEY, else the config
 * file `trainyard login` wrote ($XDG_CONFIG_HOME/trainyard/config.json, default ~/.config; mode 0600), else
 * http://127.0.0.1:3000 and no key.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface Connection {
  url: string;
  key: string | undefined;
}

export interface StoredConfig {
  url: string;
  key: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'trainyard', 'config.json');
}

export async function readConfig(path = configPath()): Promise<Partial<StoredConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text) as Partial<StoredConfig>;
    return {
      ...(typeof value.url === 'string' && { url: value.url }),
      ...(typeof value.key === 'string' && { key: value.key }),
    };
  } catch {
    throw new UsageError(`${path} is not valid JSON; run trainyard login again`);
  }
}

/** Writes the config readable by its owner only (it holds the key). */
export async function writeConfig(config: StoredConfig, path = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // writeFile's mode applies only to a new file
}

export async function resolveConnection(flags: { url?: string; key?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const stored = flags.url && flags.key ? {} : await readConfig(configPath(env));
  const url = flags.url ?? (env.TRAINYARD_URL || undefined) ?? stored.url ?? DEFAULT_URL;
  const key = flags.key ?? (env.TRAINYARD_KEY || undefined) ?? stored.key;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`The server URL must start with http:// or https:// (got ${url})`);
  return { url, key };
}
