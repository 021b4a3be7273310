/** The deployment benchmark's results as a self-contained HTML page with inline SVG bar charts. */
import type { ModeResult } from '../deployment.ts';
import { fmt } from './stats.ts';

interface Bar {
  label: string;
  value: number;
  color: string;
}

interface Group {
  name: string;
  bars: Bar[];
}

const COLORS = { embedded: '#2b6cb0', http: '#dd6b20', kafka: '#2f855a', p50: '#63b3ed', p99: '#3182ce', max: '#1a365d' } as const;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A grouped bar chart: one group per mode, one bar per series, value labels on the bars. */
function barChart(title: string, unit: string, groups: Group[]): string {
  const width = 640;
  const height = 300;
  const margin = { top: 40, right: 20, bottom: 50, left: 70 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const groupW = plotW / groups.length;
  const barsPerGroup = Math.max(...groups.map((g) => g.bars.length));
  const barW = Math.min(60, (groupW * 0.8) / barsPerGroup);
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escape(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = margin.top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" stroke="#e2e8f0"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#4a5568">${fmt(v, v < 10 && max < 10 ? 1 : 0)}</text>`);
  }
  parts.push(`<text x="16" y="${margin.top + plotH / 2}" transform="rotate(-90 16 ${margin.top + plotH / 2})" text-anchor="middle" font-size="11" fill="#4a5568">${escape(unit)}</text>`);
  groups.forEach((group, gi) => {
    const start = margin.left + gi * groupW + (groupW - barW * group.bars.length) / 2;
    group.bars.forEach((bar, bi) => {
      const h = (plotH * bar.value) / max;
      const x = start + bi * barW;
      const y = margin.top + plotH - h;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${bar.color}"><title>${escape(`${group.name} ${bar.label}: ${fmt(bar.value, 1)} ${unit}`)}</title></rect>`);
      parts.push(`<text x="${(x + (barW - 4) / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(bar.value, bar.value < 10 ? 1 : 0)}</text>`);
      if (group.bars.length > 1) parts.push(`<text x="${(x + (barW - 4) / 2).toFixed(1)}" y="${margin.top + plotH + 14}" text-anchor="middle" font-size="10" fill="#4a5568">${escape(bar.label)}</text>`);
    });
    parts.push(`<text x="${(margin.left + gi * groupW + groupW / 2).toFixed(1)}" y="${margin.top + plotH + (group.bars.length > 1 ? 32 : 18)}" text-anchor="middle" font-size="13">${escape(group.name)}</text>`);
  });
  parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#4a5568"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" role="img" aria-label="${escape(title)}">${parts.join('')}</svg>`;
}

const latencyBars = (p: { p50: number; p99: number; max: number }): Bar[] => [
  { label: 'p50', value: p.p50, color: COLORS.p50 },
  { label: 'p99', value: p.p99, color: COLORS.p99 },
  { label: 'max', value: p.max, color: COLORS.max },
];

/** The page: what was run, two charts per load point, and the table. */
export function deploymentHtml(results: ModeResult[], run: { rate: number; seconds: number; records: number; date: string }): string {
  const throughput = barChart('Throughput at saturation', 'records/s', results.map((r) => ({ name: r.mode, bars: [{ label: 'records/s', value: r.saturation.recordsPerSec, color: COLORS[r.mode] }] })));
  const e2e = barChart(`End-to-end latency at ${fmt(run.rate)} records/s`, 'ms', results.map((r) => ({ name: r.mode, bars: latencyBars(r.fixedLoad.endToEndLatencyMs) })));
  const calls = barChart('Model call latency at saturation (as the runner sees it)', 'ms', results.map((r) => ({ name: r.mode, bars: latencyBars(r.saturation.modelCallLatencyMs) })));
  const rows = results
    .map(
      (r) =>
        `<tr><td>${r.mode}</td><td>${fmt(r.saturation.recordsPerSec)}</td><td>${fmt(r.saturation.startupMs)}</td><td>${fmt(r.fixedLoad.endToEndLatencyMs.p50)}</td><td>${fmt(r.fixedLoad.endToEndLatencyMs.p99)}</td><td>${fmt(r.fixedLoad.endToEndLatencyMs.max)}</td>` +
        `<td>${fmt(r.saturation.modelCallLatencyMs.p50, 1)} / ${fmt(r.saturation.modelCallLatencyMs.p99, 1)}</td><td>${r.check.allScoredOnce ? `yes (${fmt(r.check.inputs)})` : 'NO'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tributary: deployment modes benchmark</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1340px; color: #1a202c; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
table { border-collapse: collapse; margin-top: 1rem; }
td, th { border: 1px solid #cbd5e0; padding: 0.3rem 0.6rem; text-align: right; }
td:first-child, th:first-child { text-align: left; }
</style>
</head>
<body>
<h1>Deployment modes: embedded, HTTP server, Kafka-native server</h1>
<p>Same topology (payments → <code>.predict</code> → scored) and model (fraud, newest version) on the local broker, ${new Date(run.date).toUTCString()}.
Saturation: a backlog of ${fmt(run.records)} payments. Fixed load: ${fmt(run.rate)} payments/s for ${run.seconds} s; end-to-end latency = arrival in the output topic − the input's CreateTime.
Reproduce with <code>tributary bench deployment</code>.</p>
<div class="charts">
${throughput}
${e2e}
${calls}
</div>
<table>
<thead><tr><th>mode</th><th>saturation records/s</th><th>start-up ms</th><th>e2e p50 ms</th><th>e2e p99 ms</th><th>e2e max ms</th><th>model call p50 / p99 ms (saturation)</th><th>every record scored once</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
