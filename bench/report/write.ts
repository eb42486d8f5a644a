// Writes a run's results.json and report.html side by side, and each scenario's whole latency
// histogram as hgrm/<scenario>.hgrm (HdrHistogram's percentile distribution text, values in ms).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LatencyHistogram } from '../../src/util/histogram.js';
import { renderReport } from './html.js';
import type { Results } from './types.js';

export interface ReportPaths {
  jsonPath: string;
  htmlPath: string;
  hgrmPaths: string[];
}

/** A file name for a scenario: its name with anything but letters, digits, '.', '_' and '-' as '-'. */
export function hgrmFileName(scenario: string): string {
  return `${scenario.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'scenario'}.hgrm`;
}

export async function writeReport(dir: string, results: Results): Promise<ReportPaths> {
  if (results.version !== 1) throw new Error(`unsupported results version ${String(results.version)}`);
  await mkdir(dir, { recursive: true });
  const jsonPath = join(dir, 'results.json');
  const htmlPath = join(dir, 'report.html');
  // Render first: a renderer bug must not leave a results.json without its report.
  const html = renderReport(results);
  await writeFile(jsonPath, JSON.stringify(results, null, 2) + '\n');
  await writeFile(htmlPath, html);
  const hgrmPaths: string[] = [];
  const withHdr = results.scenarios.filter((s) => s.hdr !== undefined);
  if (withHdr.length > 0) await mkdir(join(dir, 'hgrm'), { recursive: true });
  const used = new Set<string>();
  for (const s of withHdr) {
    let name = hgrmFileName(s.name);
    for (let k = 2; used.has(name); k++) name = hgrmFileName(`${s.name}-${k}`);
    used.add(name);
    const path = join(dir, 'hgrm', name);
    await writeFile(path, LatencyHistogram.decode(s.hdr!).hgrm());
    hgrmPaths.push(path);
  }
  return { jsonPath, htmlPath, hgrmPaths };
}
