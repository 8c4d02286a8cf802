/**
 * A small line-chart writer for benchmark curves: labelled series, optional
 * log-scale axes, axis labels and a title, as a standalone SVG string. No
 * dependencies, no fonts to load, and the same input always gives the same
 * bytes (so a committed plot only changes when its figures do).
 *
 *   fs.writeFileSync('docs/scale-queues.svg', lineChart({
 *     title: 'msg/s by number of queues', xLabel: 'queues', yLabel: 'msg/s', logX: true,
 *     series: [{ label: 'Warren', points: [[1, 50000], [100, 48000]] }],
 *   }));
 *
 * A point whose y is null (or not finite) is a gap: the line breaks there, so
 * a size one broker did not reach is visibly missing rather than drawn as 0.
 * On a log axis, points at or below 0 are gaps too.
 */

export type PlotPoint = readonly [x: number, y: number | null];

export interface PlotSeries {
  label: string;
  points: readonly PlotPoint[];
  /** CSS colour; defaults to one of a fixed palette by series index. */
  color?: string;
  /** Draw the line dashed (e.g. a target or a reference). */
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  logX?: boolean;
  logY?: boolean;
  /** Pixels; 640 × 400 by default. */
  width?: number;
  height?: number;
  /** Force the y range to include these values (e.g. 0, or a target line). */
  yInclude?: readonly number[];
}

const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const MARGIN = { top: 40, right: 20, bottom: 52, left: 72 };
const LEGEND_ROW = 18;

interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Rounds a coordinate to 0.1 px so output is short and stable. */
function px(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** 1, 2, 5 × 10^k steps giving about `count` ticks across [min, max]. */
function linearTicks(min: number, max: number, count: number): { min: number; max: number; ticks: number[] } {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step / 2; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  return { min: lo, max: hi, ticks };
}

/** Powers of ten covering [min, max] (min > 0). */
function logTicks(min: number, max: number): { min: number; max: number; ticks: number[] } {
  let lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { min: 10 ** lo, max: 10 ** hi, ticks };
}

function makeAxis(values: number[], log: boolean, tickCount: number): Axis {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (usable.length === 0) return log ? { min: 1, max: 10, log, ticks: [1, 10] } : { min: 0, max: 1, log, ticks: [0, 1] };
  const min = Math.min(...usable);
  const max = Math.max(...usable);
  return { log, ...(log ? logTicks(min, max) : linearTicks(min, max, tickCount)) };
}

/** 1234567 → "1.2M", 0.5 → "0.5", 10000 → "10k": tick labels that fit. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  const trim = (s: string) => s.replace(/\.0+$|(\.\d*[1-9])0+$/, '$1');
  if (a >= 1e9) return `${trim((v / 1e9).toFixed(1))}G`;
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(1))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toFixed(1))}k`;
  if (a >= 1 || a === 0) return trim(v.toFixed(1));
  return trim(v.toPrecision(2));
}

/** The chart as a complete SVG document. */
export function lineChart(options: PlotOptions): string {
  const width = options.width ?? 640;
  const legendHeight = options.series.length * LEGEND_ROW;
  const height = (options.height ?? 400) + legendHeight;
  const plotLeft = MARGIN.left;
  const plotTop = MARGIN.top;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom - legendHeight;

  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const xs = options.series.flatMap((s) => s.points.filter((p) => p[1] !== null && Number.isFinite(p[1])).map((p) => p[0]));
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1]).filter((y): y is number => y !== null));
  const x = makeAxis(xs, logX, 6);
  const y = makeAxis([...ys, ...(options.yInclude ?? [])], logY, 5);

  const scale = (v: number, axis: Axis, from: number, size: number, invert: boolean): number => {
    const f = axis.log
      ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
      : (v - axis.min) / (axis.max - axis.min);
    return invert ? from + size - f * size : from + f * size;
  };
  const sx = (v: number) => scale(v, x, plotLeft, plotWidth, false);
  const sy = (v: number) => scale(v, y, plotTop, plotHeight, true);
  const usable = (p: PlotPoint): p is readonly [number, number] =>
    p[1] !== null && Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logX || p[0] > 0) && (!logY || p[1] > 0);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${px(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);

  // Grid and tick labels.
  for (const t of x.ticks) {
    const gx = px(sx(t));
    out.push(`<line x1="${gx}" y1="${plotTop}" x2="${gx}" y2="${px(plotTop + plotHeight)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${gx}" y="${px(plotTop + plotHeight + 16)}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of y.ticks) {
    const gy = px(sy(t));
    out.push(`<line x1="${plotLeft}" y1="${gy}" x2="${px(plotLeft + plotWidth)}" y2="${gy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${plotLeft - 6}" y="${gy}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<rect x="${plotLeft}" y="${plotTop}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`);

  // Axis labels.
  const xLabel = options.xLabel + (logX ? ' (log scale)' : '');
  const yLabel = options.yLabel + (logY ? ' (log scale)' : '');
  out.push(`<text x="${px(plotLeft + plotWidth / 2)}" y="${px(plotTop + plotHeight + 36)}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  const yMid = px(plotTop + plotHeight / 2);
  out.push(`<text x="16" y="${yMid}" text-anchor="middle" transform="rotate(-90 16 ${yMid})">${escapeXml(yLabel)}</text>`);

  // Series: a polyline per unbroken run of points, a marker on every point.
  options.series.forEach((s, i) => {
    const color = s.color ?? (PALETTE[i % PALETTE.length] as string);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    let run: string[] = [];
    const endRun = () => {
      if (run.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const p of sorted) {
      if (!usable(p)) {
        endRun();
        continue;
      }
      const cx = px(sx(p[0]));
      const cy = px(sy(p[1]));
      run.push(`${cx},${cy}`);
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"><title>${escapeXml(`${s.label}: ${formatTick(p[0])} → ${p[1]}`)}</title></circle>`);
    }
    endRun();
    const ly = height - legendHeight - 8 + i * LEGEND_ROW + LEGEND_ROW / 2;
    out.push(`<line x1="${plotLeft}" y1="${px(ly)}" x2="${plotLeft + 24}" y2="${px(ly)}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${plotLeft + 30}" y="${px(ly)}" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
  });

  out.push('</svg>');
  return out.join('\n') + '\n';
}
