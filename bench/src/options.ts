// The bench's command line: every option known, anything else refused (a typo must not start
// the five-minute run).

/** What `pnpm bench` was asked to do. */
export interface BenchOptions {
  quick: boolean;
  profile: boolean;
  help: boolean;
  /** Scenario names to run; undefined: all. */
  only?: string[];
  /** Idle-connection counts to measure; undefined: the plan's. */
  idle?: number[];
}

/** The text `pnpm bench --help` prints. */
export function helpText(scenarios: readonly string[]): string {
  return [
    'usage: pnpm bench [options]      (or ./run bench [options])',
    '',
    '  --quick             one short run of everything (under a minute on 2 cores; CI runs this)',
    '  --only=a,b          run only these scenarios (also: --only a,b)',
    '  --idle=1000,9000    idle-connection counts to measure (default: 100,400 quick; 1000,9000 full)',
    '  --profile           CPU profiles of the Switchyard processes in bench/results/profiles/',
    '  --help              this text',
    '',
    `scenarios: ${scenarios.join(', ')}`,
    '',
  ].join('\n');
}

const VALUED = new Set(['--only', '--idle']);

/** Splits `--name=value` and `--name value` into pairs; flags get no value. */
function pairs(argv: readonly string[]): { name: string; value?: string }[] {
  const out: { name: string; value?: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    if (eq > 0) out.push({ name: arg.slice(0, eq), value: arg.slice(eq + 1) });
    else if (VALUED.has(arg))
      out.push({ name: arg, ...(argv[i + 1] === undefined ? {} : { value: argv[++i] }) });
    else out.push({ name: arg });
  }
  return out;
}

/** Parses the arguments, or says exactly what is wrong with them. */
export function parseOptions(
  argv: readonly string[],
  scenarios: readonly string[],
): { ok: true; options: BenchOptions } | { ok: false; error: string } {
  const options: BenchOptions = { quick: false, profile: false, help: false };
  for (const { name, value } of pairs(argv)) {
    if (name === '--quick' || name === '--profile' || name === '--help') {
      if (value !== undefined) return { ok: false, error: `${name} takes no value` };
      options[name.slice(2) as 'quick' | 'profile' | 'help'] = true;
    } else if (name === '--only') {
      const names = (value ?? '').split(',').filter(Boolean);
      const unknown = names.filter((n) => !scenarios.includes(n));
      if (names.length === 0)
        return { ok: false, error: '--only needs scenario names, e.g. --only=mtls,haproxy-mtls' };
      if (unknown.length > 0) return { ok: false, error: `unknown scenario(s): ${unknown.join(', ')}` };
      options.only = names;
    } else if (name === '--idle') {
      const counts = (value ?? '').split(',').map(Number);
      if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n <= 0))
        return { ok: false, error: '--idle needs positive whole numbers, e.g. --idle=1000,9000' };
      options.idle = counts;
    } else {
      return { ok: false, error: `unknown option: ${name}` };
    }
  }
  return { ok: true, options };
}
