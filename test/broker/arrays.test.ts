import { describe, expect, it } from 'vitest';
import { truncate } from '../../src/broker/arrays.js';

describe('truncate', () => {
  it('shortens to the length given, never lengthens', () => {
    const a = [1, 2, 3, 4];
    truncate(a, 2);
    expect(a).toEqual([1, 2]);
    truncate(a, 5);
    expect(a).toEqual([1, 2]);
    truncate(a, 0);
    expect(a).toEqual([]);
    a.push(9);
    expect(a).toEqual([9]);
  });
});
