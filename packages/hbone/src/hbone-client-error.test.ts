import { describe, expect, it } from 'vitest';
import { tunnelStatusCode } from './hbone-client-error.js';

describe('tunnelStatusCode (a bounded metrics label for a refused tunnel)', () => {
  it.each([
    [400, 'status-4xx'],
    [403, 'status-4xx'],
    [499, 'status-4xx'],
    [500, 'status-5xx'],
    [503, 'status-5xx'],
    [599, 'status-5xx'],
    [302, 'status-other'],
    [999, 'status-other'],
    [42, 'status-other'],
  ])('%i → %s', (status, code) => {
    expect(tunnelStatusCode(status)).toBe(code);
  });
});
