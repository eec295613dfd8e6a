import { Presets, SingleBar } from 'cli-progress';

/** Where a command writes: results to `out` (stdout), everything else to `err` (stderr). */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Where progress bars draw: only when it is a terminal. */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: process.stderr,
};

/** A usage or configuration problem: exit code 2, the message as it is. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** A command that ran and found something wrong (a missing account): exit code 1. */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}

export interface Progress {
  update(value: number, total: number): void;
  stop(): void;
}

/** A progress bar on a terminal (cli-progress); nothing at all when the stream is not one. */
export function progressBar(io: CliIo, label: string, unit: string): Progress {
  const stream = io.progress;
  if (!stream?.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`, hideCursor: true, etaBuffer: 100 },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total) {
      if (!started) {
        bar.start(total, value);
        started = true;
        return;
      }
      bar.setTotal(total);
      bar.update(value);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
