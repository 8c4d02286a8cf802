import { describe, expect, it } from 'vitest';
import { formatTick, lineChart } from '../bench/support/svg-plot.js';

describe('bench svg line chart', () => {
  const svg = lineChart({
    title: 'a < b & "c"',
    xLabel: 'queues',
    yLabel: 'msg/s',
    logX: true,
    series: [
      { label: 'Warren', points: [[1, 10], [100, 20], [10000, 30]] },
      { label: 'RabbitMQ', points: [[1, 5], [100, null], [1000, 6], [10000, 7]] },
    ],
  });

  it('is one svg document with the title escaped and both labels in the legend', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(svg).toContain('>Warren</text>');
    expect(svg).toContain('>RabbitMQ</text>');
    expect(svg).toContain('queues (log scale)');
  });

  it('breaks a line at a missing point instead of drawing it as zero', () => {
    // Warren: one run of 3 points; RabbitMQ: a lone point, then a run of 2.
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => (m[1] as string).split(' ').length);
    expect(lines).toEqual([3, 2]);
    expect(svg.match(/<circle /g)?.length).toBe(6);
  });

  it('puts powers of ten on a log axis and gives the same bytes for the same input', () => {
    for (const tick of ['>1</text>', '>10</text>', '>100</text>', '>1000</text>', '>10k</text>']) expect(svg).toContain(tick);
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [[1, 2]] }] })).toBe(
      lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [[1, 2]] }] }),
    );
  });

  it('formats tick values short', () => {
    expect([0, 0.5, 2.5, 1000, 20000, 1_500_000].map(formatTick)).toEqual(['0', '0.5', '2.5', '1000', '20k', '1.5M']);
  });
});
