/* global ResizeObserver, location, clearInterval */
// Per-mailbox history charts (uPlot, served by the coordinator from /vendor/): sent per minute,
// 432s and deferrals, slot wait and spool depth, over the last hour or day.
import uPlot from './vendor/uPlot.esm.js';
import { getHistory } from './api.js';
import { el } from './dom.js';
import { historyColumns } from './format.js';
import { viewHash } from './router.js';

export const RANGES = { '1h': 60, '24h': 1440 };
const REFRESH_MS = 30_000;
const CHART_HEIGHT = 180;

/** The four charts: which columns each draws, with a label and colour per line. */
const CHARTS = [
  { id: 'sent', title: 'Messages per minute', unit: 'msgs', lines: [['sent', 'sent', '#2f6fde'], ['failed', 'failed', '#b3261e']] },
  { id: 'rejections', title: '432s and deferrals per minute', unit: 'msgs', lines: [['rejections432', '432s', '#e08a00'], ['deferred', 'deferred', '#8a4fff']] },
  { id: 'slot-wait', title: 'Mean slot wait', unit: 's', lines: [['slotWaitSeconds', 'wait (s)', '#2d7a3e']] },
  { id: 'spool', title: 'Spool depth (all agents)', unit: 'msgs', lines: [['spoolDepth', 'spooled', '#66717f']] },
];

function chartOptions(chart, width) {
  return {
    width,
    height: CHART_HEIGHT,
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    series: [{}, ...chart.lines.map(([, label, stroke]) => ({ label, stroke, width: 1.5, fill: `${stroke}22`, spanGaps: false, points: { size: 3 } }))],
    axes: [{}, { size: 48, label: chart.unit }],
  };
}

/**
 * The history view: a mailbox picker, a 1 h / 24 h switch and the four charts. `mailboxes()`
 * gives the addresses to offer. Returns `{ show(params), hide() }` for the page's router.
 */
export function historyView(root, { mailboxes, notice }) {
  const state = { mailbox: '', range: '1h', timer: null, plots: new Map(), loading: 0 };
  const picker = el('select', { id: 'history-mailbox', 'aria-label': 'mailbox', onchange: () => { location.hash = viewHash('history', { mailbox: picker.value, range: state.range }); } });
  const rangeButtons = Object.keys(RANGES).map((range) =>
    el('button', { type: 'button', class: 'range', 'data-range': range, onclick: () => { location.hash = viewHash('history', { mailbox: state.mailbox, range }); } }, range.replace('h', ' h')));
  const status = el('span', { class: 'muted', id: 'history-status' });
  const figures = new Map(CHARTS.map((chart) => [chart.id, el('figure', { class: 'chart', 'data-chart': chart.id },
    el('figcaption', {}, chart.title), el('div', { class: 'plot' }))]));
  root.replaceChildren(
    el('div', { class: 'toolbar' }, picker, el('span', { class: 'ranges', role: 'group', 'aria-label': 'time range' }, rangeButtons), status),
    el('div', { class: 'charts' }, [...figures.values()]));

  new ResizeObserver(() => {
    for (const [id, plot] of state.plots) plot.setSize({ width: plotWidth(figures.get(id)), height: CHART_HEIGHT });
  }).observe(root);

  function fillPicker() {
    const addresses = mailboxes();
    if (state.mailbox && !addresses.includes(state.mailbox)) addresses.unshift(state.mailbox);
    picker.replaceChildren(...addresses.map((address) => el('option', { value: address, selected: address === state.mailbox }, address)));
  }

  async function load() {
    if (!state.mailbox) {
      status.textContent = 'No mailbox to show.';
      return;
    }
    const ticket = ++state.loading;
    try {
      const { points } = await getHistory(state.mailbox, RANGES[state.range]);
      if (ticket !== state.loading) return;
      draw(historyColumns(points));
      status.textContent = `${state.mailbox}, last ${state.range.replace('h', ' h')}, per minute`;
    } catch (error) {
      notice(`could not load the history of ${state.mailbox}: ${error.message}`, true);
    }
  }

  function draw(columns) {
    for (const chart of CHARTS) {
      const figure = figures.get(chart.id);
      const data = [columns.x, ...chart.lines.map(([column]) => columns[column])];
      // What the chart holds, readable without the canvas (tests, scripts): points, and per
      // line its total over the range (data-total-sent, …) and its last minute above zero.
      figure.dataset.points = String(columns.x.length);
      for (const [column] of chart.lines) {
        figure.dataset[`total${column[0].toUpperCase()}${column.slice(1)}`] = String(columns[column].reduce((sum, v) => sum + (v ?? 0), 0));
      }
      figure.dataset.lastNonZero = lastNonZero(columns.x, data.slice(1));
      const existing = state.plots.get(chart.id);
      if (existing) existing.setData(data);
      else state.plots.set(chart.id, new uPlot(chartOptions(chart, plotWidth(figure)), data, figure.querySelector('.plot')));
    }
  }

  return {
    show(params) {
      state.mailbox = params.get('mailbox') ?? state.mailbox ?? '';
      if (!state.mailbox) state.mailbox = mailboxes()[0] ?? '';
      state.range = RANGES[params.get('range')] ? params.get('range') : state.range;
      for (const button of rangeButtons) button.setAttribute('aria-pressed', String(button.dataset.range === state.range));
      fillPicker();
      clearInterval(state.timer);
      state.timer = setInterval(() => void load(), REFRESH_MS);
      void load();
    },
    hide() {
      clearInterval(state.timer);
      state.timer = null;
    },
  };
}

function plotWidth(figure) {
  return Math.max(200, figure.clientWidth - 16);
}

/** ISO minute of the last point where any line is above 0, or '' when none is. */
function lastNonZero(xs, lines) {
  for (let i = xs.length - 1; i >= 0; i--) if (lines.some((line) => line[i] > 0)) return new Date(xs[i] * 1000).toISOString();
  return '';
}
