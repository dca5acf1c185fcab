import { InputInvalidError, quoteInput } from '@switchyard/core';
import type { Command } from 'commander';

/** The shells `switchyard completion` writes scripts for. */
export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
/** One of {@link SHELLS}. */
export type Shell = (typeof SHELLS)[number];

/** A command path ("redirect apply") with its subcommands and long flags. */
interface Node {
  path: string;
  subcommands: string[];
  flags: string[];
  /** Its flags that must be followed by a value (`--cert-dir <dir>`): after one, no flag is offered. */
  valued: string[];
  /** Its flags whose value may be left out (`--inbound-port [port]`). */
  optionalValue: string[];
}

/** Where `ip netns add` keeps named namespaces: what `--netns <TAB>` offers. */
const NETNS_DIR = '/run/netns';

/** One program to complete: its name on the command line and its command tree. */
export interface CompletedProgram {
  name: string;
  command: Command;
  /** Command trees run under a subcommand of their own (`switchyard agent` → the agent's). */
  grafts?: Record<string, Command>;
}

/** Every command path of the tree, the root first. Hidden flags (test hooks) are left out. */
function walk(command: Command, path = '', grafts: Record<string, Command> = {}): Node[] {
  const graft = path ? grafts[path] : undefined;
  if (graft) return walk(graft, path);
  const flags = [
    ...command.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string),
    ...(path === '' ? [] : ['--help']),
  ];
  const longs = (keep: (o: Command['options'][number]) => boolean) =>
    command.options.filter((o) => !o.hidden && o.long && keep(o)).map((o) => o.long as string);
  const node = {
    path,
    subcommands: command.commands.map((c) => c.name()),
    flags,
    valued: longs((o) => o.required),
    optionalValue: longs((o) => o.optional),
  };
  return [node, ...command.commands.flatMap((c) => walk(c, path ? `${path} ${c.name()}` : c.name(), grafts))];
}

/** A shell-safe function name for a program (`switchyard-agent` → `_switchyard_agent`). */
const fn = (name: string) => `_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

// Completion is generated from the command tree rather than taken from a library: the ones on
// npm (tabtab, omelette) install hooks into the user's shell files at run time, which a CLI that
// prints its script (as kubectl and crictl do) does not need.
function bash(name: string, nodes: Node[]): string {
  const cases = nodes
    .map((n) => `    "${n.path}") words="${[...n.subcommands, ...n.flags].join(' ')}" ;;`)
    .join('\n');
  const known = nodes.map((n) => `"${n.path}"`).join(' ');
  // A flag counts as valued only where no command lets its value be left out.
  const optional = new Set(nodes.flatMap((n) => n.optionalValue));
  const valued = [...new Set(nodes.flatMap((n) => n.valued))].filter(
    (f) => f !== '--netns' && !optional.has(f),
  );
  // After a flag that takes a value: namespace names after --netns; otherwise nothing, so the
  // shell's own completion (files) takes over.
  const values = `  case "\${COMP_WORDS[COMP_CWORD-1]}" in
    --netns) COMPREPLY=( $(compgen -W "$(ls ${NETNS_DIR} 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}") ); return ;;
${valued.length > 0 ? `    ${valued.join('|')}) COMPREPLY=(); return ;;\n` : ''}  esac
`;
  return `${fn(name)}() {
${values}  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word words candidate
  local -a known=(${known})
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    candidate="\${path:+$path }$word"
    for k in "\${known[@]}"; do [[ "$k" == "$candidate" ]] && path="$candidate"; done
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F ${fn(name)} ${name}
`;
}

/** What fish offers after a flag: namespace names after --netns, files after another valued flag. */
function fishValue(flag: string, n: Node): string {
  if (flag === '--netns') return ` -x -a '(command ls ${NETNS_DIR} 2>/dev/null)'`;
  return n.valued.includes(flag) ? ' -r -F' : '';
}

function fish(name: string, nodes: Node[]): string {
  const lines = [`complete -c ${name} -f`];
  for (const n of nodes) {
    const words = n.path.split(' ').filter(Boolean);
    const condition =
      words.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${words[words.length - 1]}`;
    if (n.subcommands.length > 0)
      lines.push(`complete -c ${name} -n '${condition}' -a '${n.subcommands.join(' ')}'`);
    for (const flag of n.flags)
      lines.push(
        `complete -c ${name} -n '${words.length === 0 ? 'true' : condition}' -l ${flag.slice(2)}${fishValue(flag, n)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** PowerShell (Windows nodes): a native argument completer that walks the same paths as bash's. */
function powershell(name: string, nodes: Node[]): string {
  const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const table = nodes
    .map((n) => `    ${quote(n.path)} = @(${[...n.subcommands, ...n.flags].map(quote).join(', ')})`)
    .join('\n');
  return `Register-ArgumentCompleter -Native -CommandName ${quote(name)} -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @{
${table}
  }
  $path = ''
  foreach ($element in ($commandAst.CommandElements | Select-Object -Skip 1)) {
    if ($element.Extent.EndOffset -ge $cursorPosition) { break }
    $candidate = if ($path) { "$path $($element.ToString())" } else { $element.ToString() }
    if ($words.ContainsKey($candidate)) { $path = $candidate }
  }
  $words[$path] | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}

const HOW: Record<Shell, string> = {
  bash: 'source <(switchyard completion bash)',
  zsh: 'source <(switchyard completion zsh)',
  fish: 'switchyard completion fish | source',
  powershell: 'switchyard completion powershell | Out-String | Invoke-Expression',
};

/**
 * The completion script for `shell`, generated from the command trees, so it always offers exactly
 * the commands and flags `--help` shows; one script completes every program given.
 *
 * @throws InputInvalidError for a shell other than bash, zsh, fish or powershell.
 */
export function completionScript(programs: readonly CompletedProgram[], shell: string): string {
  if (!(SHELLS as readonly string[]).includes(shell))
    throw new InputInvalidError(
      `completion ${quoteInput(shell)}: write a script for one of ${SHELLS.join(', ')}`,
    );
  const write = { bash, zsh: bash, fish, powershell }[shell as Shell];
  const scripts = programs.map((p) => write(p.name, walk(p.command, '', p.grafts)));
  // zsh runs bash completion functions through its bashcompinit layer.
  const preamble = shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : '';
  return `# ${programs.map((p) => p.name).join(' and ')} completion for ${shell}: ${HOW[shell as Shell]}\n${preamble}${scripts.join('')}`;
}
