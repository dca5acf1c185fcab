import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot as repo } from '@switchyard/test-kit';

/** A fenced code block of the README, its list indentation removed. */
export interface ReadmeBlock {
  language: string;
  code: string;
  /** The file it belongs in, when its first line names one (`// src/index.ts`). */
  file?: string;
  /** The heading of the section it is in. */
  section: string;
}

/** Every fenced code block of a README of the repository (default the root one), in order. */
export function readmeBlocks(path = 'README.md'): ReadmeBlock[] {
  const text = readFileSync(join(repo, path), 'utf8');
  const blocks: ReadmeBlock[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('#')) section = line.replace(/^#+\s*/, '');
    const open = /^(\s*)```(\w+)\s*$/.exec(line);
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] as string); i++)
      body.push((lines[i] as string).slice(indent));
    const code = `${body.join('\n')}\n`;
    const file = /^\/\/ (src\/[\w./-]+\.ts)\n/.exec(code)?.[1];
    blocks.push({ language: open[2] as string, code, section, ...(file ? { file } : {}) });
  }
  return blocks;
}
