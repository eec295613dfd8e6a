import { GroupedCalls } from '../../src/storage/grouped-calls';

describe('GroupedCalls: group commit over a connection', () => {
  it('runs the calls of one moment as one group, and calls made while it runs as the next', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const calls = new GroupedCalls<number, number>(
      async (inputs) => {
        groups.push([...inputs]);
        if (groups.length === 1) await held;
        return inputs.map((n) => n * 10);
      },
      { maxWeight: 100 },
    );
    const first = [1, 2, 3].map((n) => calls.call(n));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [4, 5].map((n) => calls.call(n));
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(groups).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('bounds a group by weight, and each caller gets its own answer or its own error', async () => {
    const groups: string[][] = [];
    const calls = new GroupedCalls<string, string>(
      async (inputs) => {
        groups.push([...inputs]);
        return inputs.map((input) => (input.startsWith('bad') ? new Error(`refused ${input}`) : input.toUpperCase()));
      },
      { maxWeight: 6, weight: (input) => input.length },
    );
    const answers = await Promise.allSettled(['abc', 'bad', 'de', 'fgh'].map((input) => calls.call(input)));
    expect(answers).toEqual([
      { status: 'fulfilled', value: 'ABC' },
      { status: 'rejected', reason: new Error('refused bad') },
      { status: 'fulfilled', value: 'DE' },
      { status: 'fulfilled', value: 'FGH' },
    ]);
    expect(groups).toEqual([['abc', 'bad'], ['de', 'fgh']]);
  });

  it('runs each call of a group that failed as a whole alone: only the one at fault fails', async () => {
    const runs: number[][] = [];
    const calls = new GroupedCalls<number, number>(
      async (inputs) => {
        runs.push([...inputs]);
        if (inputs.includes(13)) throw new Error('constraint broken by 13');
        return [...inputs];
      },
      { maxWeight: 100 },
    );
    const answers = await Promise.allSettled([11, 12, 13, 14].map((n) => calls.call(n)));
    expect(answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : (answer.reason as Error).message))).toEqual([11, 12, 'constraint broken by 13', 14]);
    expect(runs).toEqual([[11, 12, 13, 14], [11], [12], [13], [14]]);
  });
});
