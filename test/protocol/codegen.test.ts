import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSpec, OUTPUT_PATH, render } from '../../scripts/codegen.js';

describe('codegen', () => {
  it('the committed methods.generated.ts is what the generator produces, byte for byte', () => {
    const committed = readFileSync(OUTPUT_PATH, 'utf8');
    const fresh = render(loadSpec());
    expect(fresh.split('\n')[0]).toMatch(/^\/\/ GENERATED FILE - DO NOT EDIT/);
    expect(fresh === committed).toBe(true);
  });

  it('rendering is deterministic and reflects spec changes', () => {
    const spec = loadSpec();
    expect(render(spec)).toBe(render(loadSpec()));
    const changed = loadSpec();
    changed.classes.find((c) => c.name === 'basic')!.methods.find((m) => m.name === 'ack')!.arguments.push(['extra', 'octet']);
    const text = render(changed);
    expect(text).not.toBe(render(spec));
    expect(text).toMatch(/export interface BasicAck \{\n {2}deliveryTag: number;\n {2}multiple: boolean;\n {2}extra: number;\n\}/);
  });

  it('rejects unknown argument types', () => {
    const bad = loadSpec();
    bad.classes[0]!.methods[0]!.arguments.push(['x', 'float' as never]);
    expect(() => render(bad)).toThrow(/unknown type/);
  });
});
