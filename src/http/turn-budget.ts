import type { RequestHandler } from 'express';

/**
 * At most `perTurn` requests start their work in one turn of the event loop; the others wait for the
 * next turn, in the order they came. Requests whose bodies arrive together (a burst of clients)
 * would otherwise each run up to their first wait on I/O (parsing, validation, the command,
 * encryption) back to back in one turn, and every timer, health check and answer ready meanwhile
 * would wait for all of them: the event loop's delay would grow with the number of clients instead
 * of staying near the cost of a few requests. Throughput is the same (the CPU does the same work);
 * what changes is that no turn runs long.
 */
export function turnBudget(perTurn: number): RequestHandler {
  let started = 0;
  const waiting: (() => void)[] = [];
  let scheduled = false;

  const nextTurn = () => {
    scheduled = false;
    started = 0;
    while (started < perTurn && waiting.length > 0) {
      started += 1;
      waiting.shift()!();
    }
    // Whatever started counts against this turn: the count starts over at the next.
    if (started > 0) schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(nextTurn);
  };

  return (_request, _response, next) => {
    schedule();
    if (started < perTurn && waiting.length === 0) {
      started += 1;
      next();
    } else {
      waiting.push(next);
    }
  };
}
