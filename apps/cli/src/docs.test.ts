import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';
import { cli, repo } from './testing/run-cli.js';

const docs = readFileSync(join(repo, 'docs/cli.md'), 'utf8');
const program = buildProgram({ stdout: () => {}, stderr: () => {}, cwd: repo, env: {} }, () => {});
const FLAG = /(?<![\w-])--[a-z][a-z0-9-]*/g;

/** Every command path ("redirect apply") and the long flags its --help shows. */
function helpFlags(command: Command, path = ''): Map<string, string[]> {
  const flags = command.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string);
  const all = new Map([[path, [...flags, '--help']]]);
  for (const sub of command.commands) {
    if (sub.name() === 'help') continue;
    for (const [p, f] of helpFlags(sub, path ? `${path} ${sub.name()}` : sub.name())) all.set(p, f);
  }
  return all;
}
const commands = helpFlags(program);
const topLevel = program.commands.map((c) => c.name());

/** The docs' sections: "### `switchyard redirect plan|apply`" → the command paths it covers, and its text. */
function sections(): { paths: string[]; text: string }[] {
  const out: { paths: string[]; text: string }[] = [];
  const parts = docs.split(/^### `switchyard ([^`]+)`$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const [first = '', second = ''] = (parts[i] as string).split(' ');
    const subs = second.split('|').map((s) => `${first} ${s}`);
    const paths = subs.every((p) => commands.has(p)) ? subs : [first];
    // Code spans that run another command (`redirect apply … --exclude-port 15008`) name its flags, not ours.
    const text = (parts[i + 1] as string).replace(/`([a-z]+) [^`]*`/g, (span, word: string) =>
      topLevel.includes(word) && word !== first ? '' : span,
    );
    out.push({ paths, text });
  }
  return out;
}

describe('docs/cli.md and --help', () => {
  const globals = commands.get('') as string[];
  const globalSection = docs.split('## Global options')[1]?.split('\n## ')[0] ?? '';

  it('documents every global flag, and only those, under Global options', () => {
    expect([...new Set(globalSection.match(FLAG))].sort()).toEqual([...globals].sort());
  });

  it('has a section for every command, naming every flag its --help shows', () => {
    const documented = sections();
    for (const [path, flags] of commands) {
      if (
        path === '' ||
        (commands.get(path)?.length === 1 && [...commands.keys()].some((p) => p.startsWith(`${path} `)))
      )
        continue; // the root, and groups such as "redirect" that only hold subcommands
      const section = documented.find((s) => s.paths.includes(path));
      expect(section, `docs/cli.md has no section for "switchyard ${path}"`).toBeDefined();
      const named = new Set(section?.text.match(FLAG));
      for (const flag of flags.filter((f) => f !== '--help'))
        expect(named.has(flag), `docs/cli.md does not name ${flag} of "switchyard ${path}"`).toBe(true);
    }
  });

  it('names no flag a command does not take', () => {
    for (const { paths, text } of sections()) {
      const real = new Set([...globals, ...paths.flatMap((p) => commands.get(p) ?? [])]);
      for (const flag of new Set(text.match(FLAG)))
        expect(real.has(flag), `docs/cli.md names ${flag} under "switchyard ${paths.join(' | ')}"`).toBe(
          true,
        );
    }
  });

  it('lists every exit code and SWITCHYARD_ variable the CLI has', async () => {
    const help = (await cli('proxy', 'mtls', '--help')).stdout + (await cli('--help')).stdout;
    for (const variable of new Set(help.match(/SWITCHYARD_[A-Z_]+/g)))
      expect(docs).toContain(`\`${variable}\``);
  });
});
