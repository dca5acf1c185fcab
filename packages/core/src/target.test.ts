import { describe, expect, it } from 'vitest';
import { TargetInvalidError } from './errors.js';
import { formatTarget, parseTarget } from './target.js';

describe('parseTarget / formatTarget', () => {
  it.each([
    ['netns:pod-a', { kind: 'netns', name: 'pod-a' }],
    ['netns:/var/run/netns/cni-1234', { kind: 'netns', path: '/var/run/netns/cni-1234' }],
    ['pid:4242', { kind: 'netns', pid: 4242 }],
    [
      'hns:93f86a7f-e361-4362-b8a4-81bbb6a622dd',
      { kind: 'hns-endpoint', id: '93f86a7f-e361-4362-b8a4-81bbb6a622dd' },
    ],
    ['acme:vm-7', { kind: 'acme:target', value: 'vm-7' }],
  ])('%s round-trips', (text, target) => {
    expect(parseTarget(text)).toEqual(target);
    expect(formatTarget(parseTarget(text))).toBe(text);
  });

  it('lower-cases HNS GUIDs so one endpoint has one name', () => {
    expect(formatTarget(parseTarget('hns:93F86A7F-E361-4362-B8A4-81BBB6A622DD'))).toBe(
      'hns:93f86a7f-e361-4362-b8a4-81bbb6a622dd',
    );
  });

  it.each([
    ['pod-a', /not a target/],
    ['netns:', /not a target/],
    ['netns:..', /not a network namespace name/],
    ['netns:a b', /not a network namespace name/],
    ['pid:0', /not a process id/],
    ['pid:12x', /not a process id/],
    ['hns:not-a-guid', /not an HNS endpoint GUID/],
  ])('refuses %s', (text, message) => {
    expect(() => parseTarget(text)).toThrow(TargetInvalidError);
    expect(() => parseTarget(text)).toThrow(message);
  });
});
