/**
 * The live progress lines of a terminal: one line per node at the bottom of
 * stderr, log lines written above them (clear, write, redraw), like rclone's
 * and restic's. Not live (no TTY): log lines pass through, progress is not drawn.
 */
export class ProgressBoard {
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly live: boolean,
  ) {}

  /** Sets (or with no text, removes) the line of `node`. */
  set(node: string, text: string | undefined): void {
    if (text === undefined || text === '') this.lines.delete(node);
    else this.lines.set(node, text);
    this.write('');
  }

  /** Writes `text` above the board (clear, write, redraw). */
  write(text: string): void {
    if (!this.live) {
      if (text) this.out.write(text);
      return;
    }
    let buf = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[0J` : '';
    buf += text;
    // Cut to the terminal width: a wrapped line would break the cursor-up count.
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    for (const [node, line] of this.lines) buf += `${`${node}: ${line}`.slice(0, width)}\n`;
    this.drawn = this.lines.size;
    this.out.write(buf);
  }

  clear(): void {
    this.lines.clear();
    this.write('');
  }
}
