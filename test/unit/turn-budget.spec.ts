import type { NextFunction, Request, Response } from 'express';
import { turnBudget } from '../../src/http/turn-budget';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('turnBudget: at most so many requests start their work in one turn of the event loop', () => {
  it('starts the first ones at once and the rest over the next turns, in the order they came', async () => {
    const middleware = turnBudget(3);
    const started: number[] = [];
    for (let n = 0; n < 8; n++) middleware({} as Request, {} as Response, (() => started.push(n)) as NextFunction);
    expect(started).toEqual([0, 1, 2]);
    await nextTurn();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    await nextTurn();
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('lets a request that finds the turn full wait behind those already waiting, and a quiet turn start at once', async () => {
    const middleware = turnBudget(2);
    const started: string[] = [];
    const request = (name: string) => middleware({} as Request, {} as Response, (() => started.push(name)) as NextFunction);
    ['a', 'b', 'c'].forEach(request);
    await nextTurn();
    request('d'); // this turn already started c: d comes after it, within the budget
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    request('e');
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    await nextTurn();
    await nextTurn();
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    request('f'); // nothing started in this turn yet
    expect(started.at(-1)).toBe('f');
  });
});
