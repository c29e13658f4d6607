// A progress bar for the terminal (stderr), or a line per 10% when stderr is not a terminal.

export interface ProgressPrinter {
  (done: number, total: number | null, message: string): void;
  /** Ends a bar left on its line, so that what is printed next starts on a line of its own. */
  endLine(): void;
}

export function progressPrinter(
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
): ProgressPrinter {
  let lastDecile = -1;
  let lastDraw = 0;
  let lastMessage = '';
  // A bar is drawn with \r and no newline: true while one stands on the current line.
  let barOnLine = false;
  const endLine = () => {
    if (!barOnLine) return;
    barOnLine = false;
    stream.write('\n');
  };
  const print = (done: number, total: number | null, message: string) => {
    const now = Date.now();
    if (stream.isTTY) {
      if (now - lastDraw < 100 && done !== total && message === lastMessage) return;
      lastDraw = now;
      lastMessage = message;
      const width = 30;
      const ratio = total ? Math.min(1, done / total) : 0;
      const bar = total ? '█'.repeat(Math.round(ratio * width)).padEnd(width, '░') : '·'.repeat(width);
      const pct = total ? `${(ratio * 100).toFixed(0).padStart(3)}%` : '    ';
      const counts = total ? `${done.toLocaleString()}/${total.toLocaleString()}` : done.toLocaleString();
      stream.write(`\r${bar} ${pct} ${counts} ${message}\x1b[K`);
      barOnLine = true;
      if (total && done >= total && message === 'done') endLine();
    } else {
      const decile = total ? Math.floor((done / total) * 10) : -1;
      if (decile !== lastDecile || message !== lastMessage) {
        lastDecile = decile;
        lastMessage = message;
        const pct = total ? ` ${Math.floor((done / total) * 100)}%` : '';
        stream.write(`[progress]${pct} ${done}${total ? '/' + total : ''} ${message}\n`);
      }
    }
  };
  return Object.assign(print, { endLine });
}
