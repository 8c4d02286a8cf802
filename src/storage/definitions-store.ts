/**
 * Definitions (vhosts, users, exchanges, queues, bindings, policies) as one JSON
 * document per node, dir/definitions.json.
 *
 *   writeDefinitions(dir, doc) → Promise<void>
 *     Serialises doc, writes it to dir/definitions.json.tmp, fsyncs it, renames it
 *     over definitions.json and fsyncs the directory. A crash at any point leaves
 *     either the previous complete version or the new one. Writes to the same dir
 *     from this process are serialised (the last call wins, in call order).
 *   readDefinitions(dir) → Promise<unknown | undefined>
 *     The last complete version, or undefined if none was ever written. A leftover
 *     definitions.json.tmp (crash mid-write) is ignored. A definitions.json that does
 *     not parse (damaged disk, a bad hand edit) throws DamagedDefinitionsError rather
 *     than silently returning nothing.
 *   setDamagedDefinitionsAside(dir) → Promise<string>
 *     Renames such a file to definitions.json.damaged-<time> (so that no later write
 *     replaces it) and returns its new path.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

const FILE = 'definitions.json';
const TMP = 'definitions.json.tmp';

const queues = new Map<string, Promise<void>>();

export async function writeDefinitions(dir: string, doc: unknown): Promise<void> {
  const key = path.resolve(dir);
  const text = JSON.stringify(doc, null, 2) + '\n';
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.catch(() => {}).then(() => writeNow(dir, text));
  queues.set(key, next);
  try {
    await next;
  } finally {
    if (queues.get(key) === next) queues.delete(key);
  }
}

async function writeNow(dir: string, text: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, TMP);
  const fh = await fsp.open(tmp, 'w');
  try {
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // a full disk: give back what the partial copy took
    await fsp.unlink(tmp).catch(() => {});
    throw err;
  }
  await fsp.rename(tmp, path.join(dir, FILE));
  const dfh = await fsp.open(dir, 'r');
  try {
    await dfh.sync();
  } finally {
    await dfh.close();
  }
}

export async function readDefinitions(dir: string): Promise<unknown | undefined> {
  const file = path.join(dir, FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DamagedDefinitionsError(`definitions file ${file} is damaged: ${(err as Error).message}`);
  }
}

export class DamagedDefinitionsError extends Error {}

export async function setDamagedDefinitionsAside(dir: string): Promise<string> {
  const aside = path.join(dir, `${FILE}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await fsp.rename(path.join(dir, FILE), aside);
  return aside;
}
