// The frame fuzzer, bounded for CI: FUZZ_CASES cases (20,000 by default) of
// seed FUZZ_SEED (a fixed default, so a red run can be replayed) against one
// Warren child process, 64 connections at a time, while a healthy amqplib
// client keeps doing confirmed publish/consume round trips. The properties
// (interop/support/fuzz.ts): the broker never exits; every case gets the
// answer its kind requires (a bad connection closed within 5 s of its last
// byte, and at once after broken framing; valid input left usable; frames the
// broker sends fit the negotiated frame_max; reply texts print sizes exactly);
// the healthy client never fails nor stalls; no error-level log line; RSS
// within +96 MB of its start after a short idle (why: RSS_SLACK_MB). A failure prints the seed,
// the case index and its bytes; `npm run fuzz -- --seed S --case I` replays it.
import { describe, expect, it } from 'vitest';
import { formatSummary, runFuzz } from './support/fuzz.js';

const DEFAULT_SEED = 20_261_201;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : DEFAULT_SEED;
const CASES = process.env.FUZZ_CASES !== undefined ? Number(process.env.FUZZ_CASES) : 20_000;

describe('frame fuzzer', () => {
  it(`${CASES} cases of seed ${SEED}: the broker stays up, closes every bad connection, serves a healthy client`, async () => {
    expect(Number.isSafeInteger(SEED) && Number.isSafeInteger(CASES)).toBe(true);
    console.log(`fuzz: seed ${SEED}, ${CASES} cases (FUZZ_SEED / FUZZ_CASES to change; replay one case: npm run fuzz -- --seed ${SEED} --case I)`);
    const report = await runFuzz({ seed: SEED, cases: CASES, concurrency: 64, onProgress: (line) => console.log(line), progressEveryMs: 15_000 });
    console.log(formatSummary(report));
    expect(report.problems).toEqual([]);
    expect(report.cases).toBe(CASES);
  }, 180_000);
});
