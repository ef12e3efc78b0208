/**
 * The demo's terminal output: a story of steps with their evidence, and on a TTY a live block
 * (counts, lag) redrawn in place under the last step. Without a TTY the live block is not drawn;
 * each step and its evidence is one plain line, so logs and tests read the same story.
 */
export class Story {
  private liveLines = 0;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb';
  }

  /** A numbered step of the story. */
  step(title: string): void {
    this.line(`\n${this.tty ? '\x1b[1m' : ''}${title}${this.tty ? '\x1b[0m' : ''}`);
  }

  /** Evidence under the current step. */
  detail(text: string): void {
    for (const line of text.split('\n')) this.line(`  ${line}`);
  }

  /** A condition that held: the check mark says so. */
  ok(text: string): void {
    this.detail(`${this.tty ? '\x1b[32m✔\x1b[0m' : '✔'} ${text}`);
  }

  warn(text: string): void {
    this.detail(`${this.tty ? '\x1b[33m!\x1b[0m' : '!'} ${text}`);
  }

  /** Redraws the live block (TTY only). */
  live(lines: readonly string[]): void {
    if (!this.tty) return;
    this.clearLive();
    this.out.write(lines.map((line) => `  \x1b[2m${line}\x1b[0m\n`).join(''));
    this.liveLines = lines.length;
  }

  clearLive(): void {
    if (!this.tty || this.liveLines === 0) return;
    this.out.write(`\x1b[${this.liveLines}A\x1b[0J`);
    this.liveLines = 0;
  }

  private line(text: string): void {
    this.clearLive();
    this.out.write(`${text}\n`);
  }
}

/**
 * Makes the workers of this process see a non-terminal stderr (their progress bars would tear the
 * story and the live block apart). The process's own errors still reach stderr as plain lines.
 */
export function quietWorkerTerminal(): void {
  if (process.stderr.isTTY) Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
}
