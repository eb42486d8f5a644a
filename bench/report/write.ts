// Writes a run's results.json and report.html side by side.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReport } from './html.js';
import type { Results } from './types.js';

export interface ReportPaths {
  jsonPath: string;
  htmlPath: string;
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
  return { jsonPath, htmlPath };
}
