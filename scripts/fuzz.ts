// npm run fuzz -- [--cases N] [--seed S] [--first I] [--concurrency C] [--skip kind,kind…] [--rabbitmq]
// npm run fuzz -- --seed S --case I      replays one case and prints what the broker did with it
//
// --rabbitmq runs the cases against a private RabbitMQ node instead, to check
// what the cases expect against the reference (RabbitMQ keeps the socket after
// broken framing, which Warren must not: those cases fail there by design).
// Runs the frame fuzzer (interop/support/fuzz.ts) against a fresh Warren child
// process, prints a progress line every 10 s and the summary at the end; exits 1
// if a property failed. When the broker exits or logs an error, the suspect
// cases are replayed one by one (each against a fresh broker) to name the one
// that does it alone.
import { generateCase } from '../interop/support/fuzz-cases.js';
import { describeCase, formatSummary, runFuzz, type FuzzReport } from '../interop/support/fuzz.js';

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    if (a === '--rabbitmq') {
      out.rabbitmq = 'true';
      continue;
    }
    const [k, v] = a.includes('=') ? a.slice(2).split('=', 2) : [a.slice(2), argv[++i]];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    out[k!] = v;
  }
  return out;
}

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

async function replay(seed: number, index: number): Promise<FuzzReport> {
  const c = generateCase(seed, index);
  console.log(describeCase(c));
  const r = await runFuzz({ seed, first: index, cases: 1, concurrency: 1, keepLines: true });
  for (const l of r.lines) if (l.msg !== 'listening') console.log(`  broker log: ${l.line.slice(0, 1000)}`);
  return r;
}

/** Replays each suspect alone; returns the first that by itself stops the broker (or logs an error, if that was the problem). */
async function culprit(report: FuzzReport): Promise<number | undefined> {
  for (const c of report.suspects) {
    console.log(`\nreplaying suspect case ${c.index} alone…`);
    const r = await runFuzz({ seed: report.seed, first: c.index, cases: 1, concurrency: 1 });
    if (report.brokerExit ? r.brokerExit : r.errorLines.length > 0) {
      console.log(`case ${c.index} alone: ${r.problems.join('; ')}`);
      return c.index;
    }
  }
  return undefined;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const seed = int(args.seed, 'seed', Math.floor(Math.random() * 0x7fffffff));
  if (args.case !== undefined) {
    const r = await replay(seed, int(args.case, 'case', 0));
    console.log(formatSummary(r));
    return r.problems.length > 0 ? 1 : 0;
  }
  const cases = int(args.cases, 'cases', 20_000);
  console.log(`fuzz: seed ${seed}, ${cases} cases (replay one with: npm run fuzz -- --seed ${seed} --case I)`);
  const report = await runFuzz({
    seed,
    cases,
    first: int(args.first, 'first', 0),
    concurrency: int(args.concurrency, 'concurrency', 64),
    skipKinds: args.skip?.split(',').filter((k) => k !== ''),
    rabbitmq: args.rabbitmq === 'true',
    onProgress: (line) => console.log(line),
  });
  console.log(formatSummary(report));
  if ((report.brokerExit || report.errorLines.length > 0) && report.suspects.length > 0) {
    const index = await culprit(report);
    console.log(index === undefined ? '\nno suspect fails alone' : `\nminimal reproduction:\n${describeCase(generateCase(seed, index))}`);
  }
  return report.problems.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
