import { InputInvalidError, quoteInput } from '@switchyard/core';
import type { Command } from 'commander';

/** The shells `switchyard completion` writes scripts for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** One of {@link SHELLS}. */
export type Shell = (typeof SHELLS)[number];

/** A command path ("redirect apply") with its subcommands and long flags. */
interface Node {
  path: string;
  subcommands: string[];
  flags: string[];
}

/** Every command path of the tree, the root first. Hidden flags (test hooks) are left out. */
function walk(command: Command, path = ''): Node[] {
  const flags = [
    ...command.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string),
    ...(path === '' ? [] : ['--help']),
  ];
  const node = { path, subcommands: command.commands.map((c) => c.name()), flags };
  return [node, ...command.commands.flatMap((c) => walk(c, path ? `${path} ${c.name()}` : c.name()))];
}

// Completion is generated from the command tree rather than taken from a library: the ones on
// npm (tabtab, omelette) install hooks into the user's shell files at run time, which a CLI that
// prints its script (as kubectl and crictl do) does not need.
function bash(nodes: Node[]): string {
  const cases = nodes
    .map((n) => `    "${n.path}") words="${[...n.subcommands, ...n.flags].join(' ')}" ;;`)
    .join('\n');
  const known = nodes.map((n) => `"${n.path}"`).join(' ');
  return `# switchyard completion for bash: source <(switchyard completion bash)
_switchyard() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word words candidate
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
complete -o default -F _switchyard switchyard
`;
}

function fish(nodes: Node[]): string {
  const lines = [
    '# switchyard completion for fish: switchyard completion fish | source',
    'complete -c switchyard -f',
  ];
  for (const n of nodes) {
    const words = n.path.split(' ').filter(Boolean);
    const condition =
      words.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${words[words.length - 1]}`;
    if (n.subcommands.length > 0)
      lines.push(`complete -c switchyard -n '${condition}' -a '${n.subcommands.join(' ')}'`);
    for (const flag of n.flags)
      lines.push(
        `complete -c switchyard -n '${words.length === 0 ? 'true' : condition}' -l ${flag.slice(2)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The completion script for `shell`, generated from the command tree, so it always offers exactly
 * the commands and flags `--help` shows.
 *
 * @throws InputInvalidError for a shell other than bash, zsh or fish.
 */
export function completionScript(program: Command, shell: string): string {
  if (!(SHELLS as readonly string[]).includes(shell))
    throw new InputInvalidError(
      `completion ${quoteInput(shell)}: write a script for one of ${SHELLS.join(', ')}`,
    );
  const nodes = walk(program);
  if (shell === 'fish') return fish(nodes);
  const script = bash(nodes);
  // zsh runs bash completion functions through its bashcompinit layer.
  return shell === 'zsh'
    ? `# switchyard completion for zsh: source <(switchyard completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${script}`
    : script;
}
