// Generates src/protocol/methods.generated.ts from spec/amqp0-9-1.json.
// Run with `npm run codegen`. The output is straight-line TypeScript: one
// decode and one encode function per method, selected by a switch over ids.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type FieldTypeName = 'octet' | 'short' | 'long' | 'longlong' | 'bit' | 'shortstr' | 'longstr' | 'timestamp' | 'table';

export interface SpecMethod {
  name: string;
  id: number;
  synchronous: boolean;
  content: boolean;
  arguments: [string, FieldTypeName][];
}

export interface SpecClass {
  name: string;
  id: number;
  methods: SpecMethod[];
  properties?: [string, FieldTypeName][];
}

export interface Spec {
  protocol: string;
  major: number;
  minor: number;
  revision: number;
  port: number;
  constants: { name: string; value: number; class?: string }[];
  classes: SpecClass[];
}

export const SPEC_PATH = fileURLToPath(new URL('../spec/amqp0-9-1.json', import.meta.url));
export const OUTPUT_PATH = fileURLToPath(new URL('../src/protocol/methods.generated.ts', import.meta.url));

export function loadSpec(path = SPEC_PATH): Spec {
  return JSON.parse(readFileSync(path, 'utf8')) as Spec;
}

const FIXED_SIZE: Partial<Record<FieldTypeName, number>> = { octet: 1, short: 2, long: 4, longlong: 8, timestamp: 8 };

const TS_TYPE: Record<FieldTypeName, string> = {
  octet: 'number',
  short: 'number',
  long: 'number',
  longlong: 'number',
  timestamp: 'number',
  bit: 'boolean',
  shortstr: 'string',
  longstr: 'Buffer',
  table: 'FieldTable',
};

const words = (s: string): string[] => s.split(/[-_ ]/).filter(Boolean);
const pascal = (s: string): string => words(s).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
const camel = (s: string): string => {
  const p = pascal(s);
  return p[0]!.toLowerCase() + p.slice(1);
};
const upper = (s: string): string => words(s).join('_').toUpperCase();
const hex8 = (n: number): string => '0x' + n.toString(16).padStart(8, '0');

interface MethodInfo {
  cls: SpecClass;
  m: SpecMethod;
  constName: string;
  typeName: string;
  fullId: number;
  dotted: string;
}

/** Groups arguments into runs: fixed-size fields and bit groups share one bounds check / ensure. */
type Run =
  | { kind: 'fixed'; size: number; items: { name: string; type: FieldTypeName; offset: number; bits?: string[] }[] }
  | { kind: 'var'; name: string; type: FieldTypeName };

function runs(args: [string, FieldTypeName][]): Run[] {
  const out: Run[] = [];
  let cur: Extract<Run, { kind: 'fixed' }> | null = null;
  let lastBits: string[] | null = null;
  for (const [name, type] of args) {
    if (!(type in TS_TYPE)) throw new Error(`unknown type ${type} for ${name}`);
    if (type === 'bit') {
      if (!cur) {
        cur = { kind: 'fixed', size: 0, items: [] };
        out.push(cur);
      }
      if (lastBits && lastBits.length < 8) {
        lastBits.push(name);
      } else {
        lastBits = [name];
        cur.items.push({ name, type, offset: cur.size, bits: lastBits });
        cur.size += 1;
      }
      continue;
    }
    lastBits = null;
    const size = FIXED_SIZE[type];
    if (size !== undefined) {
      if (!cur) {
        cur = { kind: 'fixed', size: 0, items: [] };
        out.push(cur);
      }
      cur.items.push({ name, type, offset: cur.size });
      cur.size += size;
    } else {
      cur = null;
      out.push({ kind: 'var', name, type });
    }
  }
  return out;
}

const off = (n: number): string => (n === 0 ? 'p' : `p + ${n}`);

function renderDecode(info: MethodInfo): string[] {
  const { m, typeName, constName } = info;
  const L: string[] = [];
  const locals = new Map<string, string>();
  m.arguments.forEach(([name], i) => locals.set(name, `a${i}`));
  L.push(`function decode${typeName}(b: Buffer): ${typeName} {`);
  if (m.arguments.length === 0) {
    L.push(`  if (b.length !== 4) throw malformed(${constName}, 'trailing bytes');`);
    L.push('  return {};');
    L.push('}');
    return L;
  }
  L.push('  const end = b.length;');
  L.push('  let p = 4;');
  const rs = runs(m.arguments);
  if (rs.some((r) => r.kind === 'var' && r.type !== 'table')) L.push('  let n: number;');
  for (const r of rs) {
    if (r.kind === 'fixed') {
      L.push(`  if (p + ${r.size} > end) throw malformed(${constName}, '${r.items[0]!.name}');`);
      for (const it of r.items) {
        const o = off(it.offset);
        switch (it.type) {
          case 'octet':
            L.push(`  const ${locals.get(it.name)} = b[${o}]!;`);
            break;
          case 'short':
            L.push(`  const ${locals.get(it.name)} = b.readUInt16BE(${o});`);
            break;
          case 'long':
            L.push(`  const ${locals.get(it.name)} = b.readUInt32BE(${o});`);
            break;
          case 'longlong':
          case 'timestamp':
            L.push(`  const ${locals.get(it.name)} = readUInt64At(b, ${o});`);
            break;
          case 'bit':
            it.bits!.forEach((bit, i) => {
              L.push(`  const ${locals.get(bit)} = (b[${o}]! & ${1 << i}) !== 0;`);
            });
            break;
          default:
            throw new Error('unreachable');
        }
      }
      L.push(`  p += ${r.size};`);
    } else {
      const v = locals.get(r.name)!;
      switch (r.type) {
        case 'shortstr':
          L.push(`  if (p >= end) throw malformed(${constName}, '${r.name}');`);
          L.push('  n = b[p]!;');
          L.push(`  if (p + 1 + n > end) throw malformed(${constName}, '${r.name}');`);
          L.push(`  const ${v} = b.toString('utf8', p + 1, p + 1 + n);`);
          L.push('  p += 1 + n;');
          break;
        case 'longstr':
          L.push(`  if (p + 4 > end) throw malformed(${constName}, '${r.name}');`);
          L.push('  n = b.readUInt32BE(p);');
          L.push(`  if (p + 4 + n > end) throw malformed(${constName}, '${r.name}');`);
          L.push(`  const ${v} = b.subarray(p + 4, p + 4 + n);`);
          L.push('  p += 4 + n;');
          break;
        case 'table':
          // A table running past the frame is a truncated frame; bad table contents are the table decoder's to report.
          L.push(`  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(${constName}, '${r.name}');`);
          L.push(`  const t${v} = decodeArguments(b, p);`);
          L.push(`  const ${v} = t${v}.table;`);
          L.push(`  p = t${v}.offset;`);
          break;
        default:
          throw new Error('unreachable');
      }
    }
  }
  L.push(`  if (p !== end) throw malformed(${constName}, 'trailing bytes');`);
  L.push('  return {');
  for (const [name] of m.arguments) L.push(`    ${camel(name)}: ${locals.get(name)},`);
  L.push('  };');
  L.push('}');
  return L;
}

function renderEncode(info: MethodInfo): string[] {
  const { m, typeName } = info;
  const L: string[] = [];
  const aName = m.arguments.length === 0 ? '_a' : 'a';
  L.push(`function encode${typeName}(w: FrameWriter, ${aName}: ${typeName}): void {`);
  for (const r of runs(m.arguments)) {
    if (r.kind === 'fixed') {
      L.push(`  w.ensure(${r.size});`);
      L.push('  {');
      L.push('    const b = w.buf;');
      L.push('    const p = w.pos;');
      for (const it of r.items) {
        const o = off(it.offset);
        const f = `a.${camel(it.name)}`;
        switch (it.type) {
          case 'octet':
            L.push(`    b.writeUInt8(${f}, ${o});`);
            break;
          case 'short':
            L.push(`    b.writeUInt16BE(${f}, ${o});`);
            break;
          case 'long':
            L.push(`    b.writeUInt32BE(${f}, ${o});`);
            break;
          case 'longlong':
          case 'timestamp':
            L.push(`    writeUInt64At(b, ${f}, ${o});`);
            break;
          case 'bit':
            L.push(`    b[${o}] = ${it.bits!.map((bit, i) => `(a.${camel(bit)} ? ${1 << i} : 0)`).join(' | ')};`);
            break;
          default:
            throw new Error('unreachable');
        }
      }
      L.push(`    w.pos = p + ${r.size};`);
      L.push('  }');
    } else {
      const f = `a.${camel(r.name)}`;
      if (r.type === 'shortstr') L.push(`  w.writeShortstr(${f});`);
      else if (r.type === 'longstr') L.push(`  w.writeLongstr(${f});`);
      else L.push(`  writeTable(w, ${f});`);
    }
  }
  L.push('}');
  return L;
}

function renderProperties(cls: SpecClass): string[] {
  const props = cls.properties!;
  if (props.length > 15) throw new Error('more than 15 properties needs continuation flag words on encode');
  const L: string[] = [];
  const iface = `${pascal(cls.name)}Properties`;
  L.push(`/** Content properties of the ${cls.name} class (a content header payload from the property flags on). */`);
  L.push(`export interface ${iface} {`);
  for (const [name, type] of props) L.push(`  ${camel(name)}?: ${TS_TYPE[type]};`);
  L.push('}');
  L.push('');
  L.push(`function malformedProperties(what: string): AmqpError {`);
  L.push(`  return AmqpError.connection(MALFORMED_METHOD_REPLY_CODE, \`cannot decode ${cls.name} properties: \${what}\`, ${cls.id}, 0);`);
  L.push('}');
  L.push('');
  L.push('/**');
  L.push(' * Decodes content properties. `raw` starts at the 16-bit property flags (a');
  L.push(' * content header payload from byte 12 on). Continuation flag words are');
  L.push(' * accepted but may not set flags for properties that do not exist.');
  L.push(' */');
  L.push(`export function decodeProperties(raw: Buffer): ${iface} {`);
  L.push('  const end = raw.length;');
  L.push("  if (end < 2) throw malformedProperties('property flags');");
  L.push('  const flags = raw.readUInt16BE(0);');
  L.push('  let p = 2;');
  L.push('  let more = flags & 1;');
  L.push('  while (more) {');
  L.push("    if (p + 2 > end) throw malformedProperties('property flags');");
  L.push('    const f = raw.readUInt16BE(p);');
  L.push('    p += 2;');
  L.push("    if ((f & 0xfffe) !== 0) throw malformedProperties('flags for unknown properties');");
  L.push('    more = f & 1;');
  L.push('  }');
  L.push(`  const props: ${iface} = {};`);
  if (props.some(([, t]) => t === 'shortstr' || t === 'longstr')) L.push('  let n: number;');
  props.forEach(([name, type], i) => {
    const bit = 1 << (15 - i);
    const f = `props.${camel(name)}`;
    L.push(`  if (flags & ${hex4(bit)}) {`);
    switch (type) {
      case 'shortstr':
        L.push(`    if (p >= end) throw malformedProperties('${name}');`);
        L.push('    n = raw[p]!;');
        L.push(`    if (p + 1 + n > end) throw malformedProperties('${name}');`);
        L.push(`    ${f} = raw.toString('utf8', p + 1, p + 1 + n);`);
        L.push('    p += 1 + n;');
        break;
      case 'longstr':
        L.push(`    if (p + 4 > end) throw malformedProperties('${name}');`);
        L.push('    n = raw.readUInt32BE(p);');
        L.push(`    if (p + 4 + n > end) throw malformedProperties('${name}');`);
        L.push(`    ${f} = Buffer.from(raw.subarray(p + 4, p + 4 + n));`);
        L.push('    p += 4 + n;');
        break;
      case 'table':
        L.push(`    if (p + 4 > end || p + 4 + raw.readUInt32BE(p) > end) throw malformedProperties('${name}');`);
        L.push('    const t = decodeTable(raw, p);');
        L.push(`    ${f} = t.table;`);
        L.push('    p = t.offset;');
        break;
      default: {
        const size = type === 'bit' ? 1 : FIXED_SIZE[type]!;
        L.push(`    if (p + ${size} > end) throw malformedProperties('${name}');`);
        if (type === 'octet') L.push(`    ${f} = raw[p]!;`);
        else if (type === 'short') L.push(`    ${f} = raw.readUInt16BE(p);`);
        else if (type === 'long') L.push(`    ${f} = raw.readUInt32BE(p);`);
        else if (type === 'bit') L.push(`    ${f} = raw[p] !== 0;`);
        else L.push(`    ${f} = readUInt64At(raw, p);`);
        L.push(`    p += ${size};`);
      }
    }
    L.push('  }');
  });
  L.push("  if (p !== end) throw malformedProperties('trailing bytes');");
  L.push('  return props;');
  L.push('}');
  L.push('');
  L.push('const propertySink = new ByteSink(512);');
  L.push('');
  L.push('/** Encodes content properties: 16-bit property flags, then the present properties. */');
  L.push(`export function encodeProperties(props: ${iface}): Buffer {`);
  L.push('  const w = propertySink;');
  L.push('  w.pos = 2;');
  L.push('  let flags = 0;');
  props.forEach(([name, type], i) => {
    const bit = 1 << (15 - i);
    const f = `props.${camel(name)}`;
    L.push(`  if (${f} != null) {`);
    L.push(`    flags |= ${hex4(bit)};`);
    switch (type) {
      case 'shortstr':
        L.push(`    w.writeShortstr(${f});`);
        break;
      case 'longstr':
        L.push(`    w.writeLongstr(${f});`);
        break;
      case 'table':
        L.push(`    writeTable(w, ${f});`);
        break;
      case 'octet':
      case 'bit':
        L.push(`    w.writeUInt8(${type === 'bit' ? `${f} ? 1 : 0` : f});`);
        break;
      case 'short':
        L.push(`    w.writeUInt16(${f});`);
        break;
      case 'long':
        L.push(`    w.writeUInt32(${f});`);
        break;
      default:
        L.push(`    w.writeUInt64(${f});`);
    }
    L.push('  }');
  });
  L.push('  w.buf.writeUInt16BE(flags, 0);');
  L.push('  return Buffer.from(w.buf.subarray(0, w.pos));');
  L.push('}');
  return L;
}

function hex4(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}

/** Renders the whole generated module from a spec. Pure: same spec, same text. */
export function render(spec: Spec): string {
  const methods: MethodInfo[] = [];
  for (const cls of spec.classes) {
    for (const m of cls.methods) {
      methods.push({
        cls,
        m,
        constName: `${upper(cls.name)}_${upper(m.name)}`,
        typeName: `${pascal(cls.name)}${pascal(m.name)}`,
        fullId: ((cls.id << 16) | m.id) >>> 0,
        dotted: `${cls.name}.${m.name}`,
      });
    }
  }
  const propClasses = spec.classes.filter((c) => c.properties && c.properties.length > 0);
  if (propClasses.length !== 1 || propClasses[0]!.name !== 'basic') throw new Error('expected exactly one class with properties: basic');

  const L: string[] = [];
  L.push('// GENERATED FILE - DO NOT EDIT. Written by scripts/codegen.ts from spec/amqp0-9-1.json; run `npm run codegen`.');
  L.push(`// AMQP ${spec.major}-${spec.minor}-${spec.revision}: ${spec.classes.length} classes, ${methods.length} methods.`);
  L.push('');
  L.push("import { ByteSink, readUInt64At, writeUInt64At } from './byte-sink.js';");
  L.push("import { FRAME_METHOD, MALFORMED_METHOD_REPLY_CODE, UNKNOWN_METHOD_REPLY_CODE } from './constants.js';");
  L.push("import { AmqpError } from './errors.js';");
  L.push("import { decodeArguments, decodeTable, writeTable, type FieldTable } from './field-table.js';");
  L.push("import type { FrameWriter } from './frame-writer.js';");
  L.push('');
  L.push('// Class ids');
  for (const cls of spec.classes) L.push(`export const CLASS_${upper(cls.name)} = ${cls.id};`);
  L.push('');
  L.push('// Method ids: classId << 16 | methodId');
  for (const mi of methods) L.push(`export const ${mi.constName} = ${hex8(mi.fullId)};`);
  L.push('');
  L.push('/** Every method id in the spec, in spec order. */');
  L.push('export const ALL_METHOD_IDS: readonly number[] = [');
  for (const mi of methods) L.push(`  ${mi.constName},`);
  L.push('];');
  L.push('');
  L.push('// Method arguments');
  for (const mi of methods) {
    L.push(`/** ${mi.dotted} (${mi.cls.id}/${mi.m.id})${mi.m.synchronous ? ', synchronous' : ''}${mi.m.content ? ', carries content' : ''} */`);
    if (mi.m.arguments.length === 0) {
      L.push(`export type ${mi.typeName} = Record<string, never>;`);
    } else {
      L.push(`export interface ${mi.typeName} {`);
      for (const [name, type] of mi.m.arguments) L.push(`  ${camel(name)}: ${TS_TYPE[type]};`);
      L.push('}');
    }
  }
  L.push('');
  L.push('export interface MethodArgsById {');
  for (const mi of methods) L.push(`  [${mi.constName}]: ${mi.typeName};`);
  L.push('}');
  L.push('');
  L.push('/** A decoded method, discriminated by its numeric id. */');
  L.push('export type IncomingMethod = { [K in keyof MethodArgsById]: { id: K; args: MethodArgsById[K] } }[keyof MethodArgsById];');
  L.push('');
  L.push('/** "basic.publish"; "unknown method 60/999" for ids not in the spec. */');
  L.push('export function methodName(id: number): string {');
  L.push('  switch (id) {');
  for (const mi of methods) L.push(`    case ${mi.constName}:\n      return '${mi.dotted}';`);
  L.push('    default:');
  L.push('      return `unknown method ${id >>> 16}/${id & 0xffff}`;');
  L.push('  }');
  L.push('}');
  L.push('');
  const contentIds = methods.filter((mi) => mi.m.content).map((mi) => mi.constName);
  L.push('/** True for methods followed by a content header and body frames. */');
  L.push('export function methodHasContent(id: number): boolean {');
  L.push(`  return ${contentIds.map((c) => `id === ${c}`).join(' || ')};`);
  L.push('}');
  L.push('');
  L.push('/** True for methods the spec marks synchronous (they expect a reply method). */');
  L.push('export function methodIsSynchronous(id: number): boolean {');
  L.push('  switch (id) {');
  for (const mi of methods.filter((x) => x.m.synchronous)) L.push(`    case ${mi.constName}:`);
  L.push('      return true;');
  L.push('    default:');
  L.push('      return false;');
  L.push('  }');
  L.push('}');
  L.push('');
  L.push('function malformed(id: number, what: string): AmqpError {');
  L.push('  return AmqpError.connection(MALFORMED_METHOD_REPLY_CODE, `cannot decode ${methodName(id)}: ${what}`, id >>> 16, id & 0xffff);');
  L.push('}');
  L.push('');
  L.push('// Decoders: b is a method frame payload; arguments start at offset 4.');
  for (const mi of methods) {
    L.push(...renderDecode(mi));
    L.push('');
  }
  L.push('/**');
  L.push(' * Decodes a method frame payload (class id, method id, arguments). Throws');
  L.push(' * AmqpError (connection scope) for unknown methods and malformed arguments.');
  L.push(' */');
  L.push('export function decodeMethod(payload: Buffer): IncomingMethod {');
  L.push('  if (payload.length < 4) {');
  L.push("    throw AmqpError.connection(MALFORMED_METHOD_REPLY_CODE, 'method frame too short for class and method ids');");
  L.push('  }');
  L.push('  const id = payload.readUInt32BE(0);');
  L.push('  try {');
  L.push('    switch (id) {');
  for (const mi of methods) {
    L.push(`      case ${mi.constName}:`);
    L.push(`        return { id: ${mi.constName}, args: decode${mi.typeName}(payload) };`);
  }
  L.push('    }');
  L.push('  } catch (e) {');
  L.push('    if (e instanceof AmqpError && e.classId === 0 && e.methodId === 0) {');
  L.push('      e.classId = id >>> 16;');
  L.push('      e.methodId = id & 0xffff;');
  L.push('    }');
  L.push('    throw e;');
  L.push('  }');
  L.push('  throw AmqpError.connection(UNKNOWN_METHOD_REPLY_CODE, `unknown method ${id >>> 16}/${id & 0xffff}`, id >>> 16, id & 0xffff);');
  L.push('}');
  L.push('');
  L.push('// Encoders: append arguments to the writer, after the class and method ids.');
  for (const mi of methods) {
    L.push(...renderEncode(mi));
    L.push('');
  }
  L.push('/** Appends one complete method frame (type 1, channel, size, payload, 0xCE) to the writer. */');
  L.push('export function encodeMethod<K extends keyof MethodArgsById>(w: FrameWriter, channel: number, id: K, args: MethodArgsById[K]): void {');
  L.push('  const mark = w.beginFrame(FRAME_METHOD, channel);');
  L.push('  const a: unknown = args;');
  L.push('  try {');
  L.push('    w.ensure(4);');
  L.push('    w.buf.writeUInt32BE(id, w.pos);');
  L.push('    w.pos += 4;');
  L.push('    switch (id as number) {');
  for (const mi of methods) {
    L.push(`      case ${mi.constName}:`);
    L.push(`        encode${mi.typeName}(w, a as ${mi.typeName});`);
    L.push('        break;');
  }
  L.push('      default:');
  L.push('        throw new RangeError(`cannot encode unknown method id ${id}`);');
  L.push('    }');
  L.push('  } catch (e) {');
  L.push('    w.abortFrame(mark);');
  L.push('    throw e;');
  L.push('  }');
  L.push('  w.endFrame(mark);');
  L.push('}');
  L.push('');
  L.push(...renderProperties(propClasses[0]!));
  L.push('');
  return L.join('\n');
}

function main(): void {
  const text = render(loadSpec());
  writeFileSync(OUTPUT_PATH, text);
  console.log(`wrote ${OUTPUT_PATH} (${text.length} bytes)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
