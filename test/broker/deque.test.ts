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
});
