import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot as repo } from '@switchyard/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from './testing/readme-blocks.js';
import { typecheckSnippets } from './testing/typecheck-snippets.js';

// Inside tests/, so the snippets resolve the packages as a project that installed them would:
// through their published exports and built types (no source condition here).
const dir = mkdtempSync(join(repo, 'tests/.readme-snippets-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the README', () => {
  it('has TypeScript snippets that compile under strict, each as a module of its own', () => {
    const blocks = readmeBlocks().filter((b) => b.language === 'ts');
    expect(blocks.length).toBeGreaterThan(5);
    const files = blocks.map((b, i) => b.file ?? `snippet-${i}.ts`);
    blocks.forEach((b, i) => {
      const path = join(dir, files[i] as string);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, b.code);
    });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const output = typecheckSnippets(dir, '**/*.ts');
    expect(output, `README snippets do not compile:\n${output}`).toBe('');
  });

  it('links nothing outside the repository', () => {
    for (const doc of [
      'README.md',
      'docs/cli.md',
      'docs/errors.md',
      'docs/policy.md',
      'docs/architecture.md',
    ]) {
      const text = readFileSync(join(repo, doc), 'utf8');
      expect(text.match(/\]\((?:\.\.\/)+(?:\.\.|shared)[^)]*\)|\.\.\/shared\//g), doc).toBeNull();
    }
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).not.toMatch(/\]\(\.\.\//);
  });
});
