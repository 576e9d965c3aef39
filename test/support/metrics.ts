/** Each sample line of a Prometheus text exposition: its name, its labels (sorted, as `k="v",...`) and value. */
function* samples(
  text: string,
): Generator<{ name: string; labels: string; value: number }> {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    yield { name: match[1], labels, value: Number(match[3]) };
  }
}

/** Reads one sample from a Prometheus text exposition: the value of `name` with exactly these labels. */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const s of samples(text))
    if (s.name === name && s.labels === wanted) return s.value;
  return undefined;
}

/** The sum of every sample of `name`, whatever its labels (0 when there is none). */
export function sampleSum(text: string, name: string): number {
  let sum = 0;
  for (const s of samples(text)) if (s.name === name) sum += s.value;
  return sum;
}
