import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/broker/deque.js';

describe('Deque', () => {
  it('behaves as a FIFO across growth and wrap-around', () => {
    const deque = new Deque<number>(2);
    const model: number[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 3 === 2) expect(deque.shift()).toBe(model.shift());
      else {
        deque.push(i);
        model.push(i);
      }
      if (i % 7 === 0) {
        deque.unshift(-i);
        model.unshift(-i);
      }
      expect(deque.length).toBe(model.length);
    }
    expect(deque.clear()).toEqual(model);
    expect(deque.length).toBe(0);
    expect(deque.shift()).toBeUndefined();
  });

  it('inserts at any position', () => {
    const deque = new Deque<string>(4);
    for (const s of ['a', 'c', 'e']) deque.push(s);
    deque.shift();
    deque.push('f');
    deque.insertAt(0, 'b');
    deque.insertAt(2, 'd');
    deque.insertAt(5, 'g');
    expect(deque.clear()).toEqual(['b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('keeps order across wrap-around and growth from any initial capacity (rounded up to a power of two: indexes wrap by mask)', () => {
    for (const capacity of [0, 1, 3, 5, 16, 100]) {
      const d = new Deque<number>(capacity);
      const model: number[] = [];
      let next = 0;
      for (let step = 0; step < 2000; step++) {
        const op = (step * 7919) % 5;
        if (op === 0 || op === 1) {
          d.push(next);
          model.push(next++);
        } else if (op === 2) {
          d.unshift(next);
          model.unshift(next++);
        } else {
          expect(d.shift()).toBe(model.shift());
        }
        expect(d.length).toBe(model.length);
        if (model.length > 0) {
          expect(d.peek()).toBe(model[0]);
          expect(d.at(model.length - 1)).toBe(model.at(-1));
        }
      }
      expect(d.clear()).toEqual(model);
    }
  });
});
