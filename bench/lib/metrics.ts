/**
 * podium's batch sizes, read from Prometheus text (a process's /metrics, or the bench's own
 * publisher registry): podium_batch_orders in the listeners process (orders per unit of work,
 * by group and source) and podium_publisher_job_orders in whoever publishes (orders per job it
 * queued). Snapshots are cumulative, so a window's figures are the difference of two.
 */

export const LISTENER_BATCHES = 'podium_batch_orders';
export const PUBLISHER_JOBS = 'podium_publisher_job_orders';

/** One labelled series of a histogram: cumulative counts per upper bound (le), sum and count. */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** [le, cumulative count], ascending, +Inf last. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

/** The series of the histograms we read, keyed by name and labels (le left out). */
export type HistogramSnapshot = Map<string, HistogramSeries>;

const LINE =
  /^([a-zA-Z_:][\w:]*)_(bucket|sum|count)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The series of the named histograms in Prometheus text exposition format. */
export function parseHistograms(
  text: string,
  names: readonly string[] = [LISTENER_BATCHES, PUBLISHER_JOBS],
): HistogramSnapshot {
  const out: HistogramSnapshot = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || !names.includes(m[1])) continue;
    const labels: Record<string, string> = {};
    let le: number | undefined;
    for (const [, k, v] of (m[3] ?? '').matchAll(LABEL)) {
      if (k === 'le') le = v === '+Inf' ? Infinity : Number(v);
      else labels[k] = v.replace(/\\(.)/g, '$1');
    }
    const key = seriesKey(m[1], labels);
    let series = out.get(key);
    if (!series) {
      series = {
        labels: { name: m[1], ...labels },
        buckets: [],
        sum: 0,
        count: 0,
      };
      out.set(key, series);
    }
    const value = Number(m[4]);
    if (m[2] === 'bucket' && le !== undefined) series.buckets.push([le, value]);
    else if (m[2] === 'sum') series.sum = value;
    else if (m[2] === 'count') series.count = value;
  }
  for (const s of out.values()) s.buckets.sort((a, b) => a[0] - b[0]);
  return out;
}

const seriesKey = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;

/** a + b, series by series (a process's figures added to those of the one it replaced). */
export function addSnapshots(
  a: HistogramSnapshot,
  b: HistogramSnapshot,
): HistogramSnapshot {
  return combine(a, b, 1);
}

/** after − before: what happened in between (before taken from the same process, or empty). */
export function diffSnapshots(
  after: HistogramSnapshot,
  before: HistogramSnapshot,
): HistogramSnapshot {
  return combine(after, before, -1);
}

function combine(
  a: HistogramSnapshot,
  b: HistogramSnapshot,
  sign: 1 | -1,
): HistogramSnapshot {
  const out: HistogramSnapshot = new Map();
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const base = x ?? y!;
    const les = [
      ...new Set([
        ...(x?.buckets ?? []).map(([le]) => le),
        ...(y?.buckets ?? []).map(([le]) => le),
      ]),
    ].sort((p, q) => p - q);
    const at = (s: HistogramSeries | undefined, le: number) =>
      s?.buckets.find(([l]) => l === le)?.[1] ?? 0;
    out.set(key, {
      labels: base.labels,
      buckets: les.map((le) => [le, at(x, le) + sign * at(y, le)]),
      sum: (x?.sum ?? 0) + sign * (y?.sum ?? 0),
      count: (x?.count ?? 0) + sign * (y?.count ?? 0),
    });
  }
  return out;
}

/** Sizes of one kind of unit of work over a window. */
export interface BatchFigure {
  /** podium_batch_orders: `listeners`; podium_publisher_job_orders: `publisher`. */
  side: 'listeners' | 'publisher';
  group: string;
  /** listeners: `announcements` or `job`; publisher: `job`. */
  source: string;
  /** Units of work (batches, jobs). */
  units: number;
  orders: number;
  mean: number;
  /** From the buckets (the observations are whole orders): see quantile(). Infinity past the last bound. */
  p50: number;
  p90: number;
}

/** Every series with at least one unit of work in the window, listeners' first. */
export function batchFigures(snapshot: HistogramSnapshot): BatchFigure[] {
  const out: BatchFigure[] = [];
  for (const s of snapshot.values()) {
    if (s.count <= 0) continue;
    const publisher = s.labels.name === PUBLISHER_JOBS;
    out.push({
      side: publisher ? 'publisher' : 'listeners',
      group: s.labels.group ?? '?',
      source: publisher ? 'job' : (s.labels.source ?? '?'),
      units: s.count,
      orders: Math.round(s.sum),
      mean: s.sum / s.count,
      p50: quantile(s, 0.5),
      p90: quantile(s, 0.9),
    });
  }
  const rank = (f: BatchFigure) =>
    `${f.side === 'listeners' ? 0 : 1}${f.group}${f.source}`;
  return out.sort((a, b) => rank(a).localeCompare(rank(b)));
}

/**
 * The q-quantile of a histogram of whole numbers: the bucket that holds the rank, and within
 * it a linear share of the whole values it can hold (prev+1 .. le), rounded up; so the
 * bucket le=1 gives exactly 1, not the 0.5 that Prometheus's histogram_quantile would.
 */
export function quantile(series: HistogramSeries, q: number): number {
  if (series.count <= 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * series.count));
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, cumulative] of series.buckets) {
    if (cumulative >= rank) {
      if (!Number.isFinite(le)) return Infinity;
      const inBucket = cumulative - prevCount;
      const share = (rank - prevCount) / inBucket;
      return Math.min(le, prevLe + Math.ceil(share * (le - prevLe)));
    }
    prevLe = le;
    prevCount = cumulative;
  }
  return Number.NaN;
}

/** GET a process's /metrics; an empty snapshot if it cannot answer (a run's figures are then missing, not wrong). */
export async function fetchHistograms(
  baseUrl: string,
): Promise<HistogramSnapshot> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) return new Map();
    return parseHistograms(await res.text());
  } catch {
    return new Map();
  }
}

/**
 * The sum of every sample of a counter in a process's /metrics, whatever its labels (0 when
 * it has none yet); undefined if the process does not answer within timeoutMs.
 */
export async function counterTotal(
  baseUrl: string,
  name: string,
  timeoutMs = 1000,
): Promise<number | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return undefined;
    let total = 0;
    for (const line of (await res.text()).split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
      if (m?.[1] === name) total += Number(m[2]);
    }
    return total;
  } catch {
    return undefined;
  }
}
