import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';

const base = { identity: { caDir: '/ca' } };

describe('source.kind docker in the agent config', () => {
  it('fills the socket and the opt-in label', () => {
    expect(validateConfig({ ...base, source: { kind: 'docker' } }, '/etc').source).toEqual({
      kind: 'docker',
      socket: '/var/run/docker.sock',
      label: 'switchyard.io/capture',
    });
    expect(
      validateConfig({ ...base, source: { kind: 'docker', socket: '/run/d.sock', label: 'mesh' } }, '/etc')
        .source,
    ).toEqual({ kind: 'docker', socket: '/run/d.sock', label: 'mesh' });
  });

  it("names a field of another source's as unknown, and an empty socket as wrong", () => {
    expect(() =>
      validateConfig({ ...base, source: { kind: 'docker', kubeconfig: 'k', socket: '' } }, '/etc'),
    ).toThrow(
      [
        '  - source.kubeconfig: unknown field; the fields here are kind, socket, label',
        '  - source.socket: expected a non-empty string, got ""',
      ].join('\n'),
    );
  });
});
