// The dashboard page: polls /dashboard/data for new frames and draws them with uPlot (loaded
// before this module as the global `uPlot`). Plain browser JavaScript, so there is no build step.
import { benchCharts } from './bench-tables.js';

const MAX_FRAMES = 600;
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d', '#7c3aed', '#0d9488', '#b45309', '#4b5563'];
const uPlotLib = globalThis.uPlot;

const state = { frames: [], data: null, charts: new Map(), since: 0, intervalMs: 1000 };
globalThis.tributaryDashboard = state;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
};
const fmt = (n, digits = 1) => {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toFixed(digits)).toLocaleString('en-US');
};
const sum = (record) => Object.values(record ?? {}).reduce((a, b) => a + b, 0);
const ago = (t) => `${Math.max(0, Math.round((Date.now() - t) / 1000))} s ago`;

/**
 * A time-series chart whose series are the keys `pick(frame)` returns over the frames; it is
 * made again when the set of keys changes. `threshold(frames)` adds a dashed horizontal line.
 */
function timeChart(id, title, pick, options = {}) {
  const container = $(id);
  if (!container) return;
  const frames = state.frames;
  const keys = [...new Set(frames.flatMap((f) => Object.keys(pick(f) ?? {})))].sort();
  const threshold = options.threshold?.(frames);
  const signature = `${keys.join('\u0000')}|${threshold !== undefined && threshold !== null}`;
  let entry = state.charts.get(id);
  if (keys.length === 0) {
    if (!entry || entry.signature !== '') {
      entry?.plot?.destroy();
      container.replaceChildren(el('div', { class: 'empty' }, `${title}: no data yet`));
      state.charts.set(id, { signature: '', plot: null, keys });
    }
    return;
  }
  const xs = frames.map((f) => f.t / 1000);
  const columns = keys.map((k) => frames.map((f) => {
    const v = pick(f)?.[k];
    return v === undefined || v === null ? null : v;
  }));
  if (threshold !== undefined && threshold !== null) columns.push(frames.map(() => threshold));
  const data = [xs, ...columns];
  if (!entry || entry.signature !== signature) {
    entry?.plot?.destroy();
    container.replaceChildren();
    const series = [{}, ...keys.map((k, i) => ({
      label: k,
      stroke: PALETTE[(options.colour?.(k, i) ?? i) % PALETTE.length],
      width: 1.5,
      spanGaps: true,
      ...(options.dashed?.(k) ? { dash: [6, 4] } : {}),
      value: (u, v) => fmt(v, options.digits ?? 1),
    }))];
    if (threshold !== undefined && threshold !== null) series.push({ label: 'alert threshold', stroke: '#c0392b', dash: [6, 4], width: 1.5, value: (u, v) => fmt(v, 2) });
    const plot = new uPlotLib({
      title,
      width: Math.max(300, container.clientWidth - 12),
      height: 200,
      series,
      scales: { x: { time: true }, y: options.range ? { range: options.range } : { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { size: 60, values: (u, splits) => splits.map((v) => fmt(v, options.digits ?? 1)) }],
      legend: { live: true },
    }, data, container);
    entry = { signature, plot, keys };
    state.charts.set(id, entry);
  } else {
    entry.plot.setData(data);
  }
  entry.last = Object.fromEntries(keys.map((k, i) => [k, columns[i].at(-1)]));
}

function card(label, value, metric) {
  return el('div', { class: 'card', dataset: { metric, value: String(value ?? '') } }, el('div', { class: 'value' }, typeof value === 'number' ? fmt(value) : value ?? '–'), el('div', { class: 'label' }, label));
}

function modelIds() {
  return [...new Set(state.frames.flatMap((f) => Object.keys(f.models)))].sort();
}

function ensureModelSections() {
  const host = $('models');
  for (const id of modelIds()) {
    const slug = id.replace(/[^\w-]/g, '_');
    if ($(`model-${slug}`)) continue;
    host.append(el('section', { id: `model-${slug}` },
      el('h2', {}, `Model ${id}`),
      el('div', { class: 'grid' },
        el('div', { class: 'chart', id: `chart-rows-${slug}` }),
        el('div', { class: 'chart', id: `chart-latency-${slug}` }),
        el('div', { class: 'chart', id: `chart-batch-${slug}` }),
        el('div', { class: 'chart', id: `chart-labels-${slug}` }),
        el('div', { class: 'chart', id: `chart-drift-${slug}` }))));
  }
}

function renderModels() {
  ensureModelSections();
  for (const id of modelIds()) {
    const slug = id.replace(/[^\w-]/g, '_');
    const m = (f) => f.models[id];
    timeChart(`chart-rows-${slug}`, 'rows scored/s (and errors/s)', (f) => m(f) && { scored: m(f).rowsPerSecond, errors: m(f).errorsPerSecond });
    timeChart(`chart-latency-${slug}`, 'inference latency (ms)', (f) => m(f) && Object.fromEntries([['p50', m(f).p50], ['p99', m(f).p99]].filter(([, v]) => v !== null)), { digits: 2 });
    timeChart(`chart-batch-${slug}`, 'batch size (rows, mean)', (f) => m(f) && (m(f).batchSize === null ? {} : { 'batch size': m(f).batchSize }));
    timeChart(`chart-labels-${slug}`, 'predictions/s by label', (f) => m(f)?.labels);
    timeChart(`chart-drift-${slug}`, 'drift: PSI per feature', (f) => m(f)?.drift, {
      digits: 3,
      threshold: (frames) => [...frames].reverse().find((f) => f.models[id]?.threshold !== null && f.models[id]?.threshold !== undefined)?.models[id].threshold ?? null,
    });
  }
}

function renderSplits() {
  const host = $('splits');
  const last = state.frames.at(-1);
  const names = Object.keys(last?.splits ?? {}).sort();
  if (names.length === 0) return host.replaceChildren();
  if (host.dataset.names !== names.join(',')) {
    host.dataset.names = names.join(',');
    host.replaceChildren(el('h2', {}, 'A/B traffic: served against configured'), el('div', { class: 'grid' }, ...names.flatMap((n) => [el('div', { class: 'chart', id: `chart-split-${n}` }), el('div', { id: `table-split-${n}` })])));
  }
  for (const name of names) {
    timeChart(`chart-split-${name}`, `${name}: share of rows served per version (dashed: configured)`, (f) => {
      const s = f.splits[name];
      if (!s) return {};
      const out = {};
      for (const [v, share] of Object.entries(s.served)) out[`v${v} served`] = share;
      for (const [v, share] of Object.entries(s.configured)) out[`v${v} configured`] = share;
      return out;
    }, { range: [0, 1], digits: 3, dashed: (k) => k.endsWith('configured'), colour: (k) => Math.max(0, Object.keys(last.splits[name].configured).sort().indexOf(k.split(' ')[0].slice(1))) });
    const s = last.splits[name];
    const rows = Object.keys(s.configured).sort().map((v) => el('tr', {}, el('td', {}, v), el('td', { class: 'num' }, `${fmt(100 * s.configured[v])} %`), el('td', { class: 'num' }, s.served[v] === undefined ? '–' : `${fmt(100 * s.served[v])} %`)));
    $(`table-split-${name}`).replaceChildren(el('table', {}, el('tr', {}, el('th', {}, 'version'), el('th', { class: 'num' }, 'configured'), el('th', { class: 'num' }, 'served')), ...rows));
  }
}

function renderShadows() {
  const host = $('shadows');
  const hasShadows = state.frames.some((f) => Object.keys(f.shadows).length > 0);
  if (!hasShadows) return host.replaceChildren();
  if (!$('chart-shadow-agreement')) {
    host.replaceChildren(el('h2', {}, 'Shadow models'), el('div', { class: 'grid' }, el('div', { class: 'chart', id: 'chart-shadow-agreement' }), el('div', { class: 'chart', id: 'chart-shadow-diff' })));
  }
  timeChart('chart-shadow-agreement', 'label agreement, candidate with primary', (f) => Object.fromEntries(Object.entries(f.shadows).map(([k, s]) => [k, s.agreement])), { range: [0, 1], digits: 3 });
  timeChart('chart-shadow-diff', 'mean |score difference|', (f) => Object.fromEntries(Object.entries(f.shadows).filter(([, s]) => s.scoreDiff !== null).map(([k, s]) => [k, s.scoreDiff])), { digits: 4 });
}

/** Features whose last PSI is over the threshold, with the time their alert fired. */
function driftingNow(data) {
  const last = state.frames.at(-1);
  const out = [];
  for (const [id, m] of Object.entries(last?.models ?? {})) {
    if (m.threshold === null) continue;
    for (const [feature, psi] of Object.entries(m.drift)) {
      if (psi <= m.threshold) continue;
      const alert = (data.driftAlerts ?? []).find((a) => `${a.model}@${a.version}` === id && a.feature === feature);
      out.push({ id, feature, psi, threshold: m.threshold, at: alert?.at });
    }
  }
  return out.sort((a, b) => b.psi - a.psi);
}

function renderEvents(data) {
  const drifting = driftingNow(data);
  $('alerts').replaceChildren(...drifting.slice(0, 8).map((d) => el('div', { class: 'alert drift', dataset: { feature: d.feature, model: d.id } },
    el('strong', {}, 'Drift alert '), `${d.id} `, el('strong', {}, d.feature), `: PSI ${fmt(d.psi, 3)} > ${fmt(d.threshold, 2)}${d.at ? `, since ${ago(d.at)}` : ''}`)),
    ...(drifting.length > 8 ? [el('div', { class: 'muted' }, `and ${drifting.length - 8} more`)] : []));
  const stateList = data.states ?? [];
  $('states').replaceChildren(
    el('p', {}, `rebalances: ${data.rebalances ?? 0}`),
    el('table', {}, el('tr', {}, el('th', {}, 'state'), el('th', {}, 'since')), ...stateList.slice(0, 8).map((s) => el('tr', {}, el('td', {}, s.state), el('td', {}, new Date(s.at).toLocaleTimeString())))));
  const stages = Object.keys(data.deadLetterTotals ?? {}).sort();
  $('dead-letters').replaceChildren(stages.length === 0 ? el('p', { class: 'muted' }, 'none') : el('table', {},
    el('tr', {}, el('th', {}, 'stage'), el('th', { class: 'num' }, 'records'), el('th', {}, 'last reasons')),
    ...stages.map((stage) => el('tr', { dataset: { stage } }, el('td', {}, stage), el('td', { class: 'num' }, fmt(data.deadLetterTotals[stage])),
      el('td', {}, ...(data.deadLetters[stage] ?? []).map((n) => el('div', { class: 'reason' }, `${n.topic}/${n.partition}@${n.offset}: ${n.reason}`)))))));
}

function renderSummary(data) {
  const last = state.frames.at(-1);
  const stateName = last?.state ?? (data.kind === 'model-server' ? 'SERVING' : '…');
  const badge = $('state');
  badge.textContent = stateName;
  badge.className = `badge ${stateName}`;
  $('updated').textContent = `updated ${new Date(data.now).toLocaleTimeString()}`;
  const modelRows = sum(Object.fromEntries(Object.entries(last?.models ?? {}).map(([k, m]) => [k, m.rowsPerSecond])));
  const alerts = driftingNow(data).length;
  const cards = data.kind === 'runner'
    ? [card('records/s in', sum(last?.recordsIn), 'records-in'), card('records/s out', sum(last?.recordsOut), 'records-out'), card('lag (records)', sum(last?.lag), 'lag'),
      card('tasks', last?.tasks ?? null, 'tasks'), card('dead-lettered', sum(data.deadLetterTotals), 'dead-lettered'), card('rows scored/s', modelRows, 'rows-scored')]
    : [card('requests/s', sum(last?.requests), 'requests'), card('rows scored/s', modelRows, 'rows-scored')];
  cards.push(card('features drifting', alerts, 'drifting'));
  $('summary').replaceChildren(...cards);
  for (const part of document.querySelectorAll('[data-part=runtime]')) part.hidden = data.kind !== 'runner';
  for (const part of document.querySelectorAll('[data-part=serving]')) part.hidden = data.kind !== 'model-server';
}

function render(data) {
  renderSummary(data);
  renderEvents(data);
  if (data.kind === 'runner') {
    timeChart('chart-in', 'records/s in, per task', (f) => f.recordsIn);
    timeChart('chart-out', 'records/s out, per topic', (f) => f.recordsOut);
    timeChart('chart-lag', 'lag per partition (records)', (f) => f.lag);
    timeChart('chart-dlq', 'dead-lettered/s, per stage', (f) => f.deadLettered);
  } else {
    timeChart('chart-requests', 'requests/s (transport, model, outcome)', (f) => f.requests);
  }
  renderModels();
  renderSplits();
  renderShadows();
}

async function poll() {
  try {
    const response = await fetch(`/dashboard/data?since=${state.since}`, { cache: 'no-store' });
    if (response.ok) {
      const data = await response.json();
      state.data = data;
      state.intervalMs = data.intervalMs;
      if (data.frames.length > 0) {
        state.frames.push(...data.frames);
        if (state.frames.length > MAX_FRAMES) state.frames.splice(0, state.frames.length - MAX_FRAMES);
        state.since = state.frames.at(-1).t;
      }
      $('title').textContent = data.title;
      $('kind').textContent = data.kind === 'runner' ? 'runner' : 'model server';
      document.title = `${data.title} · Tributary`;
      if (!$('live').hidden) render(data);
    }
  } catch {
    $('updated').textContent = 'not reachable, retrying';
  }
  setTimeout(poll, state.intervalMs);
}

// ---- benchmark results ------------------------------------------------------------------------

function barChart(host, title, labels, values) {
  const container = el('div', { class: 'chart' });
  host.append(container);
  const xs = labels.map((_, i) => i);
  new uPlotLib({
    title,
    width: Math.max(300, host.clientWidth / 2 - 30),
    height: 220,
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
    series: [{ label: 'row', value: (u, v) => labels[v] ?? '' }, { label: title, stroke: PALETTE[0], fill: 'rgba(37, 99, 235, 0.35)', paths: uPlotLib.paths.bars({ size: [0.6, 80] }), points: { show: false }, value: (u, v) => fmt(v, 2) }],
    axes: [{ splits: () => xs, values: (u, splits) => splits.map((i) => (labels[i] ?? '').slice(0, 24)), rotate: labels.length > 4 ? -25 : 0, size: labels.length > 4 ? 80 : 40 }, { size: 70, values: (u, splits) => splits.map((v) => fmt(v, 2)) }],
    legend: { show: false },
  }, [xs, values], container);
}

function renderBench(name, result) {
  const view = $('bench-view');
  const tables = benchCharts(result);
  const meta = Object.entries(result ?? {}).filter(([, v]) => v === null || typeof v !== 'object').map(([k, v]) => `${k}: ${v}`).join(' · ');
  view.replaceChildren(el('h2', {}, name), el('p', { class: 'muted' }, meta));
  if (tables.length === 0) return view.append(el('p', {}, 'no table of numbers found in this result'));
  for (const table of tables) {
    view.append(el('h3', {}, table.path));
    const grid = el('div', { class: 'grid', dataset: { table: table.path } });
    view.append(grid);
    for (const chart of table.charts) barChart(grid, chart.field, table.labels, chart.values);
  }
}

async function openBench(name) {
  const response = await fetch(`/dashboard/bench/${encodeURIComponent(name)}`, { cache: 'no-store' });
  if (!response.ok) return $('bench-view').replaceChildren(el('p', {}, await response.text()));
  renderBench(name, await response.json());
}

async function listBench() {
  const response = await fetch('/dashboard/bench', { cache: 'no-store' });
  const { dir, files } = await response.json();
  const select = $('bench-files');
  select.replaceChildren(el('option', { value: '' }, files.length === 0 ? `none in ${dir}` : `choose (${files.length} in ${dir})`), ...files.map((f) => el('option', { value: f.name }, f.name)));
  const wanted = new URLSearchParams(location.search).get('bench');
  if (wanted) {
    select.value = wanted;
    await openBench(wanted);
  }
}

function showTab() {
  const bench = location.hash === '#bench';
  $('live').hidden = bench;
  $('bench').hidden = !bench;
  $('tab-live').classList.toggle('active', !bench);
  $('tab-bench').classList.toggle('active', bench);
  if (bench) void listBench();
  else if (state.data) render(state.data);
}

$('bench-files').addEventListener('change', (e) => { if (e.target.value) void openBench(e.target.value); });
$('bench-file').addEventListener('change', async (e) => {
  const file = e.target.files?.[0];
  if (file) renderBench(file.name, JSON.parse(await file.text()));
});
window.addEventListener('hashchange', showTab);
showTab();
void poll();
