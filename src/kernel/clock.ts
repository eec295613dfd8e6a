/** The one source of "now". Tests swap it for a fixed or stepping clock. */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** RFC 3339 UTC without milliseconds, the timestamp format of every attribute. */
export function toTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
