/**
 * A one-line progress bar on stderr: the share of the planned work done (steps weighted by
 * their expected seconds), the elapsed time, an estimate of what is left, and the current
 * step. Without a terminal it prints one line per step instead.
 */
export class Progress {
  private done = 0;
  private current = {
    label: 'starting',
    weight: 0,
    startedMs: performance.now(),
  };
  private readonly startMs = performance.now();
  private timer?: NodeJS.Timeout;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly total: number) {}

  start(): void {
    if (this.tty) this.timer = setInterval(() => this.render(), 250);
  }

  /** Begins a step of the given expected duration (seconds). */
  step(label: string, weight: number): void {
    this.done += this.current.weight;
    this.current = { label, weight, startedMs: performance.now() };
    if (this.tty) this.render();
    else
      process.stderr.write(
        `[${clock(this.elapsed())}] ${this.percent().toFixed(0).padStart(3)}% ${label}\n`,
      );
  }

  finish(message: string): void {
    this.done += this.current.weight;
    this.current = { label: '', weight: 0, startedMs: performance.now() };
    clearInterval(this.timer);
    if (this.tty) process.stderr.write(`\r\x1b[2K`);
    process.stderr.write(`${message}\n`);
  }

  /** Prints a line above the bar. */
  log(line: string): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}\n`);
    else process.stderr.write(`${line}\n`);
    if (this.tty) this.render();
  }

  private elapsed(): number {
    return (performance.now() - this.startMs) / 1000;
  }

  private percent(): number {
    const inStep = Math.min(
      this.current.weight,
      (performance.now() - this.current.startedMs) / 1000,
    );
    return Math.min(100, (100 * (this.done + inStep * 0.95)) / this.total);
  }

  private render(): void {
    const pct = this.percent();
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const elapsed = this.elapsed();
    const left = pct > 1 ? (elapsed * (100 - pct)) / pct : this.total;
    const cols = process.stderr.columns ?? 100;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}% ${clock(elapsed)} ~${clock(left)} left  ${this.current.label}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
  }
}

export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
