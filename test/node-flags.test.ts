import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// README (Running): warren runs Node with --initial-heap-size=64, and npm start and the test and benchmark
// harness (interop/support/warren.ts) start it the same way, so that figures measured there are the bin's.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const FLAG = '--initial-heap-size=64';

describe("Node's flags for Warren", () => {
  it('the CLI #! line gives --initial-heap-size=64 (env -S passes it to node)', () => {
    expect(read('src/cli.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${FLAG}`);
  });

  it('npm start and the harness that starts dist/cli.js pass the same flag', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toContain(`node ${FLAG} dist/cli.js`);
    expect(read('interop/support/warren.ts')).toContain(`WARREN_NODE_FLAGS = ['${FLAG}']`);
  });
});
