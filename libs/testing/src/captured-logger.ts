import { escapeLogText, SafeConsoleLogger } from '@podium/core';

/** A logger that keeps the lines an app logs, escaped as the real loggers print them, so a test can assert on them. */
export class CapturedLogger extends SafeConsoleLogger {
  readonly lines: string[] = [];

  constructor(private readonly echo = false) {
    super();
  }

  override log(message: unknown, context?: string): void {
    this.keep('log', message, context);
  }

  override warn(message: unknown, context?: string): void {
    this.keep('warn', message, context);
  }

  override error(
    message: unknown,
    stackOrContext?: string,
    context?: string,
  ): void {
    this.keep('error', message, context ?? stackOrContext);
  }

  /** Lines that contain the text. */
  matching(text: string): string[] {
    return this.lines.filter((line) => line.includes(text));
  }

  private keep(
    level: 'log' | 'warn' | 'error',
    message: unknown,
    context?: string,
  ): void {
    this.lines.push(
      `${level} [${context ?? ''}] ${escapeLogText(String(message))}`,
    );
    if (this.echo) super[level](message, context);
  }
}
