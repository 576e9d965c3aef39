/** Small hand-written SVG charts: grouped bars and lines, no dependencies. */

export const COLORS: Record<string, string> = {
  seed: '#7f7f7f',
  nest: '#bcbd22',
  bullmq: '#8c564b',
  streams: '#17becf',
  ephemeral: '#1f77b4',
  queued: '#ff7f0e',
  durable: '#2ca02c',
  mixed: '#9467bd',
};

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Short number text: 1234 -> 1,234; 0.01234 -> 0.0123. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (
    let e = Math.floor(Math.log10(min));
    e <= Math.ceil(Math.log10(max));
    e++
  )
    ticks.push(10 ** e);
  return ticks;
}

function frame(
  width: number,
  height: number,
  title: string,
  subtitle: string | undefined,
  body: string,
): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
    subtitle
      ? `<text x="16" y="42" font-size="12" fill="#555">${esc(subtitle)}</text>`
      : '',
    body,
    `</svg>`,
  ].join('\n');
}

function legend(
  items: { name: string; color: string }[],
  x: number,
  y: number,
  line = false,
): string {
  return items
    .map((item, i) => {
      const yy = y + i * 16;
      const mark = line
        ? `<line x1="${x}" y1="${yy - 4}" x2="${x + 14}" y2="${yy - 4}" stroke="${item.color}" stroke-width="2.5"/>`
        : `<rect x="${x}" y="${yy - 10}" width="12" height="10" fill="${item.color}"/>`;
      return `${mark}<text x="${x + 18}" y="${yy}" font-size="11">${esc(item.name)}</text>`;
    })
    .join('\n');
}

export interface BarChartOptions {
  title: string;
  subtitle?: string;
  categories: string[];
  series: {
    name: string;
    color: string;
    values: (number | null | undefined)[];
  }[];
  unit: string;
  log?: boolean;
  /** Text above each bar; defaults to the value. */
  label?: (value: number, series: number, category: number) => string;
  /** Horizontal reference lines (targets). */
  refs?: { value: number; label: string; color?: string }[];
  width?: number;
  height?: number;
}

export function barChart(o: BarChartOptions): string {
  // Room for the categories' labels (three lines of ~15 characters each).
  const width = o.width ?? Math.max(820, 250 + 110 * o.categories.length);
  const height = o.height ?? 380;
  const left = 70;
  const right = 180;
  const top = 60;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = o.series
    .flatMap((s) => s.values)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const refValues = (o.refs ?? []).map((r) => r.value);
  const maxV = Math.max(...values, ...refValues, o.log ? 1 : 0);
  const minPositive = Math.min(
    ...values.filter((v) => v > 0),
    ...refValues.filter((v) => v > 0),
    1,
  );
  const ticks = o.log ? logTicks(minPositive, maxV) : niceTicks(maxV);
  const lo = o.log ? ticks[0] : 0;
  const hi = ticks[ticks.length - 1];
  const y = (v: number) => {
    if (o.log) {
      const c = Math.max(v, lo);
      return (
        top +
        plotH -
        ((Math.log10(c) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) *
          plotH
      );
    }
    return top + plotH - (v / hi) * plotH;
  };
  const parts: string[] = [];
  for (const tick of ticks) {
    parts.push(
      `<line x1="${left}" y1="${y(tick)}" x2="${left + plotW}" y2="${y(tick)}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end">${esc(fmt(tick))}</text>`,
    );
  }
  parts.push(
    `<text x="16" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(o.unit)}${o.log ? ' (log scale)' : ''}</text>`,
  );
  const groupW = plotW / o.categories.length;
  const barW = Math.min(40, (groupW * 0.8) / o.series.length);
  o.categories.forEach((category, c) => {
    const gx = left + c * groupW + (groupW - barW * o.series.length) / 2;
    o.series.forEach((s, k) => {
      const v = s.values[c];
      const x = gx + k * barW;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        parts.push(
          `<text x="${x + barW / 2}" y="${top + plotH - 4}" font-size="10" text-anchor="middle" fill="#999">n/a</text>`,
        );
        return;
      }
      const yy = y(v);
      parts.push(
        `<rect x="${x + 1}" y="${yy}" width="${barW - 2}" height="${Math.max(0.5, top + plotH - yy)}" fill="${s.color}"><title>${esc(`${s.name} · ${category}: ${fmt(v)} ${o.unit}`)}</title></rect>`,
      );
      const text = o.label ? o.label(v, k, c) : fmt(v);
      parts.push(
        `<text x="${x + barW / 2}" y="${yy - 4}" font-size="10" text-anchor="middle">${esc(text)}</text>`,
      );
    });
    const words = category.split(' ');
    const lines: string[] = [''];
    for (const word of words) {
      if (
        (lines[lines.length - 1] + ' ' + word).trim().length > groupW / 6.5 &&
        lines[lines.length - 1]
      )
        lines.push(word);
      else
        lines[lines.length - 1] = `${lines[lines.length - 1]} ${word}`.trim();
    }
    lines.slice(0, 3).forEach((line, i) => {
      parts.push(
        `<text x="${left + c * groupW + groupW / 2}" y="${top + plotH + 16 + i * 13}" font-size="11" text-anchor="middle">${esc(line)}</text>`,
      );
    });
  });
  for (const ref of o.refs ?? []) {
    const yy = y(ref.value);
    parts.push(
      `<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="${ref.color ?? '#d62728'}" stroke-dasharray="5 4"/>`,
    );
    parts.push(
      `<text x="${left + plotW - 4}" y="${yy - 4}" font-size="10" text-anchor="end" fill="${ref.color ?? '#d62728'}">${esc(ref.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`,
  );
  if (o.series.length > 1)
    parts.push(legend(o.series, left + plotW + 20, top + 10));
  return frame(width, height, o.title, o.subtitle, parts.join('\n'));
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: {
    name: string;
    color: string;
    points: [number, number][];
    dash?: boolean;
  }[];
  refs?: { value: number; label: string; color?: string }[];
  /** Shaded x ranges (e.g. the stream). */
  spans?: { from: number; to: number; label: string }[];
  width?: number;
  height?: number;
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 820;
  const height = o.height ?? 380;
  const left = 70;
  const right = 200;
  const top = 60;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const points = o.series
    .flatMap((s) => s.points)
    .filter(([x, v]) => Number.isFinite(x) && Number.isFinite(v));
  const maxX = Math.max(
    1,
    ...points.map(([x]) => x),
    ...(o.spans ?? []).map((s) => s.to),
  );
  const maxY = Math.max(
    1,
    ...points.map(([, v]) => v),
    ...(o.refs ?? []).map((r) => r.value),
  );
  const xTicks = niceTicks(maxX, 8);
  const yTicks = niceTicks(maxY);
  const xHi = xTicks[xTicks.length - 1];
  const yHi = yTicks[yTicks.length - 1];
  const px = (x: number) => left + (x / xHi) * plotW;
  const py = (v: number) => top + plotH - (v / yHi) * plotH;
  const parts: string[] = [];
  for (const span of o.spans ?? []) {
    parts.push(
      `<rect x="${px(span.from)}" y="${top}" width="${Math.max(0, px(span.to) - px(span.from))}" height="${plotH}" fill="#f2f6fb"/>`,
    );
    parts.push(
      `<text x="${px(span.from) + 4}" y="${top + 12}" font-size="10" fill="#555">${esc(span.label)}</text>`,
    );
  }
  for (const tick of yTicks) {
    parts.push(
      `<line x1="${left}" y1="${py(tick)}" x2="${left + plotW}" y2="${py(tick)}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${py(tick) + 4}" font-size="11" text-anchor="end">${esc(fmt(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    parts.push(
      `<text x="${px(tick)}" y="${top + plotH + 16}" font-size="11" text-anchor="middle">${esc(fmt(tick))}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 10}" font-size="11" text-anchor="middle">${esc(o.xLabel)}</text>`,
  );
  parts.push(
    `<text x="16" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  for (const ref of o.refs ?? []) {
    parts.push(
      `<line x1="${left}" y1="${py(ref.value)}" x2="${left + plotW}" y2="${py(ref.value)}" stroke="${ref.color ?? '#d62728'}" stroke-dasharray="5 4"/>`,
    );
    parts.push(
      `<text x="${left + plotW - 4}" y="${py(ref.value) - 4}" font-size="10" text-anchor="end" fill="${ref.color ?? '#d62728'}">${esc(ref.label)}</text>`,
    );
  }
  for (const s of o.series) {
    const path = s.points
      .filter(([x, v]) => Number.isFinite(x) && Number.isFinite(v))
      .map(
        ([x, v], i) =>
          `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(v).toFixed(1)}`,
      )
      .join(' ');
    if (path)
      parts.push(
        `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="6 3"' : ''}/>`,
      );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
  );
  parts.push(legend(o.series, left + plotW + 20, top + 10, true));
  return frame(width, height, o.title, o.subtitle, parts.join('\n'));
}
