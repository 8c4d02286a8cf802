import { describe, expect, it } from 'vitest';
import { type ConfirmSink, PublisherConfirms } from '../../src/session/confirms.js';

/** Records the frames a channel would send. */
class Frames implements ConfirmSink {
  readonly sent: string[] = [];
  sendAck(tag: number, multiple: boolean): void {
    this.sent.push(multiple ? `ack(${tag}, multiple)` : `ack(${tag})`);
  }
  sendNack(tag: number): void {
    this.sent.push(`nack(${tag})`);
  }
}

function setup(): { confirms: PublisherConfirms; frames: Frames } {
  const frames = new Frames();
  return { confirms: new PublisherConfirms(frames), frames };
}

describe('publisher confirm sequence', () => {
  it('acks a run of publishes with one multiple ack, a single one with a plain ack', () => {
    const { confirms, frames } = setup();
    confirms.published();
    confirms.flush();
    confirms.published();
    confirms.published();
    confirms.published();
    confirms.flush();
    expect(frames.sent).toEqual(['ack(1)', 'ack(4, multiple)']);
  });

  it('an ack then a nack: ack(1) first, then nack(2), and no ack names 2 (two back-to-back publishes into a full reject-publish queue)', () => {
    const { confirms, frames } = setup();
    confirms.published();
    confirms.refused();
    confirms.flush();
    expect(frames.sent).toEqual(['ack(1)', 'nack(2)']);
  });

  it('a nack first: the acks after it do not span it', () => {
    const { confirms, frames } = setup();
    confirms.refused();
    confirms.published();
    confirms.published();
    confirms.flush();
    expect(frames.sent).toEqual(['nack(1)', 'ack(3, multiple)']);
  });

  it('runs of acks between nacks in one flush', () => {
    const { confirms, frames } = setup();
    confirms.published();
    confirms.published();
    confirms.refused();
    confirms.published();
    confirms.published();
    confirms.refused();
    confirms.refused();
    confirms.published();
    confirms.flush();
    expect(frames.sent).toEqual(['ack(2, multiple)', 'nack(3)', 'ack(5, multiple)', 'nack(6)', 'nack(7)', 'ack(8)']);
  });

  it('a nack next to persistent messages waiting for the disk goes at once; the acks wait and never span it', () => {
    const { confirms, frames } = setup();
    expect(confirms.publishedAwaitingDisk(10)).toBe(true);
    confirms.refused();
    confirms.published();
    expect(confirms.publishedAwaitingDisk(11)).toBe(false);
    confirms.published();
    confirms.flush();
    expect(frames.sent).toEqual(['nack(2)']);
    expect(confirms.onDurable(10)).toBe(true);
    confirms.flush();
    expect(frames.sent).toEqual(['nack(2)', 'ack(1)', 'ack(3)']);
    expect(confirms.onDurable(11)).toBe(false);
    confirms.flush();
    expect(frames.sent).toEqual(['nack(2)', 'ack(1)', 'ack(3)', 'ack(5, multiple)']);
  });

  it('persistent messages are confirmed only once on disk, in order', () => {
    const { confirms, frames } = setup();
    confirms.published();
    confirms.publishedAwaitingDisk(3);
    confirms.published();
    confirms.flush();
    expect(frames.sent).toEqual(['ack(1)']);
    expect(confirms.due).toBe(false);
    confirms.onDurable(2);
    expect(confirms.due).toBe(false);
    confirms.onDurable(3);
    expect(confirms.due).toBe(true);
    confirms.flush();
    expect(frames.sent).toEqual(['ack(1)', 'ack(3, multiple)']);
  });

  it('every mix of acks, nacks and durable waits: each tag answered once, as meant, never before it is on disk', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 300; round++) {
      const frames = new Frames();
      const confirms = new PublisherConfirms(frames);
      /** What each tag should get: 'ack' or 'nack', and the ticket it waits for (0: none). */
      const meant = new Map<number, { answer: 'ack' | 'nack'; ticket: number }>();
      const answered = new Map<number, 'ack' | 'nack'>();
      let tag = 0;
      let ticket = 0;
      let durable = 0;
      let checked = 0;
      const check = (): void => {
        // The client's view: a multiple ack answers every tag still outstanding up to it.
        for (; checked < frames.sent.length; checked++) {
          const frame = frames.sent[checked];
          const match = /^(ack|nack)\((\d+)(, multiple)?\)$/.exec(frame) as RegExpExecArray;
          const kind = match[1] as 'ack' | 'nack';
          const upTo = Number(match[2]);
          expect(answered.has(upTo), `${frame}: tag ${upTo} answered twice`).toBe(false);
          const covered = match[3] !== undefined ? [...meant.keys()].filter((t) => t <= upTo && !answered.has(t)) : [upTo];
          if (match[3] !== undefined) expect(covered.length).toBeGreaterThan(1);
          for (const t of covered) {
            const m = meant.get(t);
            expect(m, `${frame} answers unknown tag ${t}`).toBeDefined();
            expect(kind, `${frame} answers tag ${t}, meant ${m!.answer}`).toBe(m!.answer);
            expect(m!.ticket <= durable, `${frame} confirms tag ${t} before the disk has it`).toBe(true);
            answered.set(t, kind);
          }
        }
      };
      for (let step = 0; step < 40; step++) {
        const r = random();
        if (r < 0.3) {
          confirms.published();
          meant.set(++tag, { answer: 'ack', ticket: 0 });
        } else if (r < 0.5) {
          confirms.refused();
          meant.set(++tag, { answer: 'nack', ticket: 0 });
        } else if (r < 0.75) {
          const first = confirms.publishedAwaitingDisk(++ticket);
          meant.set(++tag, { answer: 'ack', ticket });
          expect(first).toBe(![...meant.values()].some((m) => m.ticket > durable && m.ticket !== ticket));
        } else if (r < 0.9) {
          durable = Math.min(ticket, durable + 1 + Math.floor(random() * 3));
          confirms.onDurable(durable);
        } else {
          confirms.flush();
        }
        check();
      }
      durable = ticket;
      expect(confirms.onDurable(durable)).toBe(false);
      confirms.flush();
      check();
      expect(answered.size).toBe(meant.size);
    }
  });
});
