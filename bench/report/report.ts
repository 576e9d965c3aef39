import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCharts } from './charts.js';
import { Doc } from './markdown.js';
import type { Results } from './results.js';
import { renderChecks, renderFailedRuns } from './sections/checks.js';
import { renderCluster } from './sections/cluster.js';
import { renderCrash } from './sections/crash.js';
import { renderFailover } from './sections/failover.js';
import { renderHeader } from './sections/header.js';
import { renderHttp } from './sections/http.js';
import { renderLatency } from './sections/latency.js';
import { renderSaturation } from './sections/saturation.js';
import { renderSlow } from './sections/slow.js';
import { renderTargets } from './sections/targets.js';

export function writeReport(dir: string, results: Results): string[] {
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    files.push(path);
  };
  write('results.json', `${JSON.stringify(results, null, 1)}\n`);
  const charts = renderCharts(results);
  for (const [name, svg] of Object.entries(charts)) write(name, svg);
  write('REPORT.md', renderMarkdown(results, Object.keys(charts)));
  return files.filter(
    (f) => f.endsWith('REPORT.md') || f.endsWith('results.json'),
  );
}

/**
 * REPORT.md, section by section, in the order it reads: each section (sections/) writes its
 * heading, text, tables and charts, or nothing when its scenario did not run.
 */
function renderMarkdown(results: Results, charts: string[]): string {
  const doc = new Doc(charts);
  renderHeader(doc, results);
  renderTargets(doc, results);
  renderSaturation(doc, results); // 1.
  renderLatency(doc, results); // 2.
  renderCrash(doc, results); // 3.
  renderSlow(doc, results); // 4. and 5.
  renderHttp(doc, results); // 6.
  renderFailover(doc, results); // 7., the network cuts included
  renderCluster(doc, results); // 8.
  renderChecks(doc, results);
  renderFailedRuns(doc, results);
  doc.paragraph(`Raw figures: [results.json](results.json).`);
  return doc.text();
}
