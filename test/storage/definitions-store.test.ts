import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DamagedDefinitionsError, readDefinitions, setDamagedDefinitionsAside, writeDefinitions } from '../../src/storage/definitions-store.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});
async function fresh(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

const v1 = { rabbit_version: '3.13.0', vhosts: [{ name: '/' }], queues: [{ name: 'a', vhost: '/', durable: true }] };
const v2 = { ...v1, queues: [...v1.queues, { name: 'b', vhost: '/', durable: true }] };

describe('definitions store', () => {
  it('returns undefined before the first write, then the last written document', async () => {
    const dir = await fresh();
    expect(await readDefinitions(dir)).toBeUndefined();
    await writeDefinitions(dir, v1);
    expect(await readDefinitions(dir)).toEqual(v1);
    await writeDefinitions(dir, v2);
    expect(await readDefinitions(dir)).toEqual(v2);
    expect(await fsp.readdir(dir)).toEqual(['definitions.json']);
  });

  it('a leftover half-written temp file does not hide the last complete version, nor block the next write', async () => {
    const dir = await fresh();
    await writeDefinitions(dir, v1);
    await fsp.writeFile(path.join(dir, 'definitions.json.tmp'), '{"vhosts": [{"na');
    expect(await readDefinitions(dir)).toEqual(v1);
    await writeDefinitions(dir, v2);
    expect(await readDefinitions(dir)).toEqual(v2);
    expect(await fsp.readdir(dir)).toEqual(['definitions.json']);
  });

  it('concurrent writes land in call order', async () => {
    const dir = await fresh();
    await Promise.all(Array.from({ length: 10 }, (_, i) => writeDefinitions(dir, { n: i })));
    expect(await readDefinitions(dir)).toEqual({ n: 9 });
  });

  it('a damaged definitions file is an error, not an empty broker', async () => {
    const dir = await fresh();
    await fsp.writeFile(path.join(dir, 'definitions.json'), '{ nope');
    await expect(readDefinitions(dir)).rejects.toThrow(DamagedDefinitionsError);
  });

  it('sets a damaged file aside, where no later write replaces it', async () => {
    const dir = await fresh();
    await fsp.writeFile(path.join(dir, 'definitions.json'), '{ nope');
    const aside = await setDamagedDefinitionsAside(dir);
    expect(path.basename(aside)).toMatch(/^definitions\.json\.damaged-\d{4}-/);
    expect(await readDefinitions(dir)).toBeUndefined();
    await writeDefinitions(dir, v1);
    expect(await fsp.readFile(aside, 'utf8')).toBe('{ nope');
  });
});
