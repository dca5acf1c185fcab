import { describe, expect, it } from 'vitest';
import { untilAborted } from './until-aborted.js';

describe('untilAborted', () => {
  it('passes the work through when no signal aborts', async () => {
    const controller = new AbortController();
    expect(await untilAborted(Promise.resolve(7), controller.signal)).toBe(7);
    await expect(untilAborted(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow('no');
  });

  it('rejects at once on abort, and disposes of what the work yields later', async () => {
    const controller = new AbortController();
    let finish: (v: string) => void = () => undefined;
    const disposed: string[] = [];
    const waiting = untilAborted(
      new Promise<string>((r) => {
        finish = r;
      }),
      controller.signal,
      (late) => disposed.push(late),
    );
    controller.abort(new Error('SIGTERM during start-up'));
    await expect(waiting).rejects.toThrow('SIGTERM during start-up');
    finish('a watch');
    await expect.poll(() => disposed).toEqual(['a watch']);
  });

  it('an aborted signal rejects before the work is awaited', async () => {
    const controller = new AbortController();
    controller.abort(new Error('already'));
    await expect(untilAborted(Promise.resolve(1), controller.signal)).rejects.toThrow('already');
  });
});
