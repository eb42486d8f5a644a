// What a run ends with, for people and for CI: the console tables, the comparison with --baseline, the
// --threshold verdicts, the exit code, and (with --json) the results object alone on stdout.
import { compareWithBaseline, renderBaseline, type BaselineComparison } from './baseline.js';
import { renderTable } from './report/table.js';
import type { Results } from './report/types.js';
import { evaluateThresholds, THRESHOLD_EXIT_CODE, type Threshold, type ThresholdOutcome } from './thresholds.js';

export const INTERRUPTED_EXIT_CODE = 130;

/** The signals that stop a run after writing what it measured, and the exit code of each (128 + its number). */
export const SIGNAL_EXIT_CODES = { SIGINT: INTERRUPTED_EXIT_CODE, SIGTERM: 143, SIGHUP: 129 } as const;
export type InterruptSignal = keyof typeof SIGNAL_EXIT_CODES;

/** results.json as the benchmark CLI writes it: Results, and what the automation options add. */
export interface RunResults extends Results {
  /** Set when a signal (SIGINT, SIGTERM, SIGHUP) stopped the run: the scenarios are those finished before it. */
  interrupted?: { signal: InterruptSignal; during: string | undefined; completed: number; of: number };
  /** --baseline: this run against the earlier one (for the report's comparison). */
  baseline?: BaselineComparison;
  /** --threshold: each bound and whether it held. */
  thresholds?: ThresholdOutcome[];
}

export interface JudgeOptions {
  baseline: { path: string; results: Results } | undefined;
  tolerancePct: number;
  failOnRegression: boolean;
  thresholds: readonly Threshold[];
}

export interface Verdict {
  results: RunResults;
  /** The console text: the summary table, the baseline comparison, the thresholds. */
  text: string;
  /** 0, or THRESHOLD_EXIT_CODE when a threshold failed (or a regression, with failOnRegression). */
  exitCode: number;
}

/** Adds the baseline comparison and threshold verdicts to `results`, renders them, and decides the exit code. */
export function judge(results: RunResults, o: JudgeOptions): Verdict {
  const out: RunResults = { ...results };
  const parts = [renderTable(results)];
  let failed = false;
  if (o.baseline !== undefined) {
    out.baseline = compareWithBaseline(results, o.baseline.results, o.baseline.path, o.tolerancePct);
    parts.push(renderBaseline(out.baseline));
    if (o.failOnRegression && out.baseline.regressions > 0) failed = true;
  }
  if (o.thresholds.length > 0) {
    out.thresholds = evaluateThresholds(o.thresholds, results);
    const bad = out.thresholds.filter((t) => !t.ok);
    parts.push(`thresholds: ${bad.length === 0 ? 'all held' : `${bad.length} of ${out.thresholds.length} FAILED`}\n${out.thresholds.map((t) => `  ${t.message}`).join('\n')}\n`);
    if (bad.length > 0) failed = true;
  }
  return { results: out, text: parts.join('\n'), exitCode: failed ? THRESHOLD_EXIT_CODE : 0 };
}

/**
 * --json: stdout is for the results object only. Everything else written to process.stdout from now on
 * (this module's tables, other modules' progress lines) goes to stderr; the returned function writes to
 * the real stdout.
 */
export function reserveStdout(): (text: string) => Promise<void> {
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout);
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  return (text) => new Promise((resolveWrite, reject) => {
    write(text, (err) => (err ? reject(err) : resolveWrite()));
  });
}
