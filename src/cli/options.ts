// Command-line options of every threadraft command (bench, chaos, sim, serve): each option is declared once,
// with its type, range, default and help line, and parsed and validated by the one parser below, so that
// `--nodes 4` or `--clients 1.5` get the same answer from every command. A usage error exits with code 2.
import { readFileSync } from 'node:fs';

/** A usage error: the message names the option and what it allows. Commands exit with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE_EXIT_CODE = 2;

/**
 * The signals every command ends on cleanly (its clusters stopped, its temporary directories removed) and the
 * `threadraft` bin forwards to the command it runs: Ctrl-C, `kill`, and the terminal closing. Without a handler each
 * would end the process at once.
 */
export const END_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ignore write errors on stdout and stderr. What a command prints is advisory (its results are in files, its
 * verdict in its exit code): a reader that went away (`npm start | head`, `threadraft serve | grep -m1 listening`)
 * must not crash it at its next line (EPIPE, an unhandled 'error' event) before it has stopped its clusters and
 * removed their directories.
 */
export function ignoreOutputErrors(): void {
  for (const out of [process.stdout, process.stderr]) out.on('error', () => undefined);
}

interface Common {
  /** The help line (what it is; the default and the allowed values are added). */
  help: string;
  /** Placeholder in the help (default: derived from the type). */
  arg?: string;
  /** The default as the help shows it, when the value alone would not say it (e.g. "5; sustained: 60"). */
  defaultText?: string;
  /** An environment variable read when the option is not given (flag > environment > default). */
  env?: string;
}

/** An integer in [min, max]. */
export interface IntOption extends Common { type: 'int'; min: number; max: number; default?: number }
/** A finite decimal number in [min, max]. */
export interface NumberOption extends Common { type: 'number'; min: number; max: number; default?: number }
/**
 * A time: a number in `unit` ('s' or 'ms'), or a number with a unit (500us, 20ms, 2s, 1m), converted to
 * `unit`; in [min, max] of `unit`.
 */
export interface TimeOption extends Common { type: 'time'; unit: 's' | 'ms'; min: number; max: number; default?: number }
/** One of `values`; `aliases` maps other accepted spellings to a value. */
export interface EnumOption extends Common { type: 'enum'; values: readonly string[]; aliases?: Readonly<Record<string, string>>; default?: string }
/** Any string (a path, a password, JSON checked by the command). */
export interface StringOption extends Common { type: 'string'; default?: string }
/**
 * Comma-separated items, and the option may be repeated (the items add up). `item` checks and normalises
 * each: it returns the item as the command keeps it, or throws UsageError's message as a string.
 */
export interface ListOption extends Common { type: 'list'; values?: readonly string[]; item?: (s: string) => string; default?: readonly string[] }
/** --name (true); with `negatable`, --no-name too (false). Both together are refused. */
export interface FlagOption extends Common { type: 'flag'; negatable?: boolean; default?: boolean }

export type OptionSpec = IntOption | NumberOption | TimeOption | EnumOption | StringOption | ListOption | FlagOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ValueOf<O> = O extends { type: 'int' | 'number' | 'time' } ? number
  : O extends { type: 'enum'; values: readonly (infer V)[] } ? V
  : O extends { type: 'flag' } ? boolean
  : O extends { type: 'list' } ? string[]
  : string;

/** The parsed values, keyed by option name: undefined only for options without a default (flags default to false). */
export type Parsed<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : T[K] extends { type: 'flag' } ? boolean : ValueOf<T[K]> | undefined;
};

export type ParseOutcome<T extends OptionTable> = { kind: 'help' } | { kind: 'version' } | { kind: 'values'; values: Parsed<T> };

// ---- the rules shared by every command -------------------------------------------------------------
// A command takes one of these as it is, or with its own default and help line (`{ ...NODES, default: 5 }`),
// never with another range: test/cli/options.test.ts checks that every command's option of these names has
// exactly these rules.

/** What Cluster.start accepts (src/cluster/options.ts: nodes 1–7); test/cli checks the two agree. */
export const NODES = { type: 'int', min: 1, max: 7, default: 3, help: 'voters' } as const satisfies IntOption;
export const SEED = { type: 'int', min: 0, max: 0xffffffff, default: 1, help: 'random seed' } as const satisfies IntOption;
export const CLIENTS = { type: 'int', min: 1, max: 65_536, help: 'calls in flight' } as const satisfies IntOption;
export const KEYS = { type: 'int', min: 1, max: 10_000_000, help: 'key space' } as const satisfies IntOption;
export const DURATION = { type: 'time', unit: 's', min: 0.1, max: 86_400, help: 'seconds of load' } as const satisfies TimeOption;
export const STORAGE = { type: 'enum', values: ['lmdb', 'memory'], default: 'lmdb', help: 'where each node keeps its log and state machine' } as const satisfies EnumOption;
export const POOL = { type: 'enum', values: ['piscina', 'inline'], default: 'piscina', help: 'where storage transactions run' } as const satisfies EnumOption;
export const SYNC = { type: 'flag', negatable: true, default: true, help: 'synced LMDB writes (--no-sync is UNSAFE for durability)' } as const satisfies FlagOption;

/** The shared rules by option name (for the test that every command uses them unchanged). */
export const SHARED: Readonly<Record<string, OptionSpec>> = {
  nodes: NODES, seed: SEED, clients: CLIENTS, keys: KEYS, duration: DURATION, storage: STORAGE, pool: POOL, sync: SYNC,
};

// ---- parsing ---------------------------------------------------------------------------------------

/** The package's version (package.json two levels above dist/src/cli/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60 };
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

function rangeText(o: { min: number; max: number }, unit = ''): string {
  return `[${o.min}${unit}, ${o.max}${unit}]`;
}

function describeAllowed(name: string, o: OptionSpec): string {
  switch (o.type) {
    case 'int': return `--${name} must be an integer in ${rangeText(o)}`;
    case 'number': return `--${name} must be a number in ${rangeText(o)}`;
    case 'time': return `--${name} must be a time in ${rangeText(o, o.unit)} (a number of ${o.unit === 's' ? 'seconds' : 'milliseconds'}, or with a unit: us, ms, s, m)`;
    case 'enum': return `--${name} must be one of ${[...o.values, ...Object.keys(o.aliases ?? {})].join(', ')}`;
    default: return `--${name}`;
  }
}

/** Parses one value of a valued option; throws UsageError naming the option, the rule and what was given. */
export function parseValue(name: string, o: OptionSpec, raw: string, source = ''): number | string | string[] {
  const bad = (): never => {
    throw new UsageError(`${describeAllowed(name, o)}, got ${JSON.stringify(raw)}${source}`);
  };
  switch (o.type) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) bad();
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < o.min || n > o.max) bad();
      return n;
    }
    case 'number': {
      if (!DECIMAL.test(raw.trim())) bad();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < o.min || n > o.max) bad();
      return n;
    }
    case 'time': {
      const m = /^(.*?)(us|µs|ms|s|m)?$/.exec(raw.trim());
      const num = m?.[1] ?? '';
      if (!DECIMAL.test(num)) bad();
      const seconds = Number(num) * (m?.[2] === undefined ? (o.unit === 's' ? 1 : 1e-3) : TIME_UNITS[m[2]]!);
      const n = o.unit === 's' ? seconds : seconds * 1000;
      if (!Number.isFinite(n) || n < o.min - 1e-9 || n > o.max + 1e-9) bad();
      return n;
    }
    case 'enum': {
      if (o.values.includes(raw)) return raw;
      const aliased = o.aliases?.[raw];
      if (aliased === undefined) bad();
      return aliased as string;
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim());
      if (items.every((s) => s.length === 0)) throw new UsageError(`--${name} needs at least one item${source}`);
      // An empty item is a typo ('a,,b', 'a,'): said, not dropped.
      if (items.includes('')) throw new UsageError(`--${name}: an empty item in ${JSON.stringify(raw)}${source}`);
      return items.map((s) => {
        if (o.values !== undefined && !o.values.includes(s)) throw new UsageError(`--${name}: unknown item ${JSON.stringify(s)}; allowed: ${o.values.join(', ')}${source}`);
        if (o.item === undefined) return s;
        try {
          return o.item(s);
        } catch (err) {
          throw new UsageError(`--${name}: ${err instanceof Error ? err.message : String(err)}${source}`);
        }
      });
    }
    case 'string':
      if (raw.length === 0) throw new UsageError(`--${name} must not be empty${source}`);
      return raw;
    case 'flag':
      throw new Error(`--${name} is a flag`);
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function unknownOption(token: string, table: OptionTable): UsageError {
  const name = token.replace(/^-+/, '').split('=')[0] ?? '';
  const names = Object.entries(table).flatMap(([n, o]) => (o.type === 'flag' && o.negatable ? [n, `no-${n}`] : [n]));
  const near = names.map((n) => [n, editDistance(name, n)] as const).filter(([, d]) => d <= 2).sort((x, y) => x[1] - y[1])[0];
  return new UsageError(`unknown option ${token.split('=')[0]}${near ? `; did you mean --${near[0]}?` : ''}`);
}

/**
 * Parses `argv` against `table`: `--name value`, `--name=value`, `--flag`, `--no-flag`, `-h`/`--help`, `--version`.
 * Returns the values (every option present: given, from its environment variable, or its default) or asks for
 * help or the version; throws UsageError for anything else.
 */
export function parseOptions<T extends OptionTable>(argv: readonly string[], table: T, env: Readonly<Record<string, string | undefined>> = {}): ParseOutcome<T> {
  // --help and --version anywhere answer first: asking for help must not need a valid command line.
  if (argv.includes('-h') || argv.includes('--help')) return { kind: 'help' };
  if (argv.includes('--version')) return { kind: 'version' };
  const given = new Map<string, unknown>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--') || token === '--') throw new UsageError(`unexpected argument ${JSON.stringify(token)}`);
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    const negated = name.startsWith('no-') ? name.slice(3) : undefined;
    const spec = table[name] ?? (negated !== undefined && table[negated]?.type === 'flag' ? table[negated] : undefined);
    if (spec === undefined) throw unknownOption(token, table);
    if (spec.type === 'flag') {
      const key = table[name] !== undefined ? name : negated!;
      if (key !== name && !spec.negatable) throw unknownOption(token, table);
      if (inline !== undefined) throw new UsageError(`--${name} takes no value, got --${name}=${inline}`);
      const value = key === name;
      if (given.has(key) && given.get(key) !== value) throw new UsageError(`--${key} and --no-${key} together`);
      given.set(key, value);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        const rule = describeAllowed(name, spec);
        throw new UsageError(rule.includes(' must be ') ? rule.replace(' must be ', ' needs a value: ') : `--${name} needs a value: ${placeholder(spec)}`);
      }
      raw = next;
      i++;
    }
    const value = parseValue(name, spec, raw);
    if (spec.type === 'list') given.set(name, [...((given.get(name) as string[] | undefined) ?? []), ...(value as string[])]);
    else given.set(name, value); // a repeated single-valued option: the last one counts
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    if (given.has(name)) values[name] = given.get(name);
    else if (spec.env !== undefined && env[spec.env] !== undefined && env[spec.env] !== '') values[name] = fromEnv(name, spec, env[spec.env]!);
    else if (spec.type === 'list' && spec.default !== undefined) values[name] = [...spec.default];
    else values[name] = spec.default ?? (spec.type === 'flag' ? false : undefined);
  }
  return { kind: 'values', values: values as Parsed<T> };
}

function fromEnv(name: string, spec: OptionSpec, raw: string): unknown {
  const source = ` (from the environment: ${spec.env}=${raw})`;
  if (spec.type !== 'flag') return parseValue(name, spec, raw, source);
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new UsageError(`--${name} must be 1, true, 0 or false${source}`);
}

// ---- help ------------------------------------------------------------------------------------------

function placeholder(o: OptionSpec): string {
  if (o.arg !== undefined) return o.arg;
  switch (o.type) {
    case 'int': return o.max - o.min <= 10 ? `<${o.min}-${o.max}>` : '<n>';
    case 'number': return `<${o.min}..${o.max}>`;
    case 'time': return o.unit === 's' ? '<s>' : '<ms>';
    case 'enum': return `<${o.values.join('|')}>`;
    case 'list': return o.values !== undefined ? `<${o.values.join(',')}>` : '<a,b,...>';
    default: return '<value>';
  }
}

function defaultHelp(o: OptionSpec): string {
  if (o.defaultText !== undefined) return ` (default ${o.defaultText})`;
  if (o.default === undefined || (o.type === 'flag' && o.default === false)) return '';
  if (o.type === 'flag') return ' (default on)';
  if (o.type === 'list') return ` (default ${o.default.join(',')})`;
  return ` (default ${String(o.default)}${o.type === 'time' ? o.unit : ''})`;
}

function helpRows(table: OptionTable, names: readonly string[]): Array<readonly [string, string]> {
  return names.map((name) => {
    const o = table[name];
    if (o === undefined) throw new Error(`help: no option ${name}`);
    const left = o.type === 'flag' ? (o.negatable ? `--${name} / --no-${name}` : `--${name}`) : `--${name} ${placeholder(o)}`;
    return [left, `${o.help}${defaultHelp(o)}${o.env !== undefined ? ` [env ${o.env}]` : ''}`] as const;
  });
}

export interface CommandHelp {
  /** e.g. 'threadraft bench' (used in messages too). */
  command: string;
  summary: string;
  usage: string;
  /** [heading, option names] in the order the help shows them; options not listed go under "Options". */
  sections?: ReadonlyArray<readonly [string, readonly string[]]>;
  /** Text after the options (scenarios, exit codes). */
  epilogue?: string;
}

const MAX_LEFT = 34;

export function formatHelp(table: OptionTable, h: CommandHelp): string {
  const listed = new Set((h.sections ?? []).flatMap(([, names]) => names));
  const rest = Object.keys(table).filter((n) => !listed.has(n));
  const sections = [...(h.sections ?? []), ...(rest.length > 0 ? [['Options', rest] as const] : [])];
  const rows = sections.map(([heading, names]) => [heading, helpRows(table, names)] as const);
  const std = ['', [['--version', 'print the version'], ['-h, --help', 'this text']]] as const;
  // Options longer than MAX_LEFT put their help on the next line.
  const width = Math.min(MAX_LEFT, Math.max(26, ...rows.flatMap(([, r]) => r.map(([l]) => l.length + 1))));
  const line = ([l, text]: readonly [string, string]): string => (l.length < width ? `  ${l.padEnd(width)} ${text}` : `  ${l}\n  ${' '.repeat(width)} ${text}`);
  const body = [...rows, std].map(([heading, r]) => `${heading === '' ? '' : `${heading}\n`}${r.map(line).join('\n')}`).join('\n');
  return `${h.command}: ${h.summary}\n\nUsage: ${h.usage}\n\n${body}\n${h.epilogue !== undefined ? `\n${h.epilogue.trimEnd()}\n` : ''}`;
}

/**
 * A command's entry: parse, or print the help or version and exit 0, or print the usage error and exit 2.
 * `io` is for tests.
 */
export function parseCommandLine<T extends OptionTable>(
  argv: readonly string[], table: T, help: CommandHelp,
  io: { env?: Readonly<Record<string, string | undefined>>; out?: (s: string) => void; err?: (s: string) => void; exit?: (code: number) => never } = {},
): Parsed<T> {
  const out = io.out ?? ((s: string) => process.stdout.write(s));
  const err = io.err ?? ((s: string) => process.stderr.write(s));
  const exit = io.exit ?? ((code: number) => process.exit(code));
  let r: ParseOutcome<T>;
  try {
    r = parseOptions(argv, table, io.env ?? process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usageExit(help.command, e.message, { err, exit });
  }
  if (r.kind === 'help') {
    out(formatHelp(table, help));
    return exit(0);
  }
  if (r.kind === 'version') {
    out(`${packageVersion()}\n`);
    return exit(0);
  }
  return r.values;
}

/** Prints `<command>: <message>` and how to get the help, and exits with code 2. */
export function usageExit(command: string, message: string, io: { err?: (s: string) => void; exit?: (code: number) => never } = {}): never {
  const err = io.err ?? ((s: string) => process.stderr.write(s));
  const exit = io.exit ?? ((code: number) => process.exit(code));
  err(`${command}: ${message}\nRun ${command} --help for the options.\n`);
  return exit(USAGE_EXIT_CODE);
}
