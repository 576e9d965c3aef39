// The live dashboard's page script: no build step, no framework. Every name shown comes from
// users (events, customers), so text is only ever set with textContent, never parsed as HTML.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  };
  const cell = (text, className) => el('td', text, className);
  const int = new Intl.NumberFormat('en-US');
  const dollars = new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 0,
    maximumFractionDigits: 0,
  });
  const cents = new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 2,
  });
  const money = (n) => (Number.isInteger(n) ? dollars : cents).format(n);
  const count = (n) => (n === null || n === undefined ? '–' : int.format(n));
  // Alerts and winners carry epoch seconds; the histogram is in UTC, so are the times.
  const time = (epochSeconds) =>
    new Date(epochSeconds * 1000).toISOString().slice(11, 19);
  const HOURS = Array.from({ length: 24 }, (_, h) =>
    String(h).padStart(2, '0'),
  );
  const PALETTE = [
    '#2563eb',
    '#d97706',
    '#059669',
    '#db2777',
    '#7c3aed',
    '#0891b2',
    '#65a30d',
    '#dc2626',
    '#4b5563',
    '#ca8a04',
  ];

  let heartbeatMs = 2000;
  let lastSnapshotAt = 0;
  let snapshots = 0;
  let chart = null;

  function setStatus(state, text) {
    const status = $('status');
    status.className = `status ${state}`;
    status.textContent = text;
  }

  function renderTotals(sales) {
    const sum = (field) => sales.reduce((n, s) => n + s[field], 0);
    $('total-orders').textContent = int.format(sum('orders'));
    $('total-tickets').textContent = int.format(sum('ticketsSold'));
    $('total-sales').textContent = money(sum('totalSales'));
  }

  function renderSales(sales) {
    const rows = [...sales]
      .sort((a, b) => a.event.localeCompare(b.event))
      .map((s) => {
        const tr = el('tr');
        tr.dataset.event = s.event;
        tr.append(
          cell(s.event),
          cell(int.format(s.orders), 'num'),
          cell(int.format(s.ticketsSold), 'num'),
          cell(money(s.totalSales), 'num'),
        );
        return tr;
      });
    if (rows.length === 0) {
      const td = cell('no events yet', 'empty');
      td.colSpan = 4;
      rows.push(el('tr'));
      rows[0].append(td);
    }
    $('sales').tBodies[0].replaceChildren(...rows);
  }

  function renderHistogram(histogram) {
    if (!window.Chart) return;
    const events = [...histogram.events].sort((a, b) =>
      a.event.localeCompare(b.event),
    );
    if (!chart) {
      chart = new window.Chart($('histogram'), {
        type: 'bar',
        data: { labels: HOURS, datasets: [] },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 6 } },
            y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          },
          plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        },
      });
    }
    // The datasets are updated in place, so that events hidden from the legend stay hidden.
    const wanted = [
      {
        key: 'all events',
        type: 'line',
        label: 'all events',
        data: histogram.all,
        stack: 'all',
        color: '#111827',
      },
      ...events.map((e, i) => ({
        key: `event:${e.event}`,
        type: 'bar',
        label: e.event,
        data: e.hours,
        stack: 'events',
        color: PALETTE[i % PALETTE.length],
      })),
    ];
    const byKey = new Map(chart.data.datasets.map((d) => [d.key, d]));
    chart.data.datasets = wanted.map((w) => {
      const dataset = byKey.get(w.key) ?? {
        key: w.key,
        type: w.type,
        label: w.label,
        stack: w.stack,
        order: w.type === 'line' ? 0 : 1,
      };
      dataset.data = w.data;
      dataset.backgroundColor = w.color;
      dataset.borderColor = w.color;
      if (w.type === 'line')
        Object.assign(dataset, { borderWidth: 2, pointRadius: 2, fill: false });
      return dataset;
    });
    chart.update('none');
  }

  function renderListeners(listeners) {
    const rows = listeners.map((l) => {
      const tr = el('tr');
      tr.dataset.listener = l.name;
      const mode = cell(undefined, 'mode-cell');
      mode.append(el('span', l.mode, `mode ${l.mode}`));
      if (l.group) mode.append(el('span', `group ${l.group}`, 'group'));
      // The labels head the figures when a phone's width stacks the row.
      const figure = (label, n, alarming) => {
        const td = cell(count(n), alarming && n > 0 ? 'num bad' : 'num');
        td.dataset.label = label;
        return td;
      };
      tr.append(
        cell(l.name, 'name'),
        mode,
        figure('applied', l.applied),
        figure('lag', l.lag),
        figure('queue', l.queueDepth),
        figure('failed', l.failed, true),
        figure('lost', l.lost, true),
      );
      return tr;
    });
    if (rows.length === 0) {
      const td = cell('no listener has run against this Redis yet', 'empty');
      td.colSpan = 7;
      rows.push(el('tr'));
      rows[0].append(td);
    }
    $('listeners').tBodies[0].replaceChildren(...rows);
  }

  /** The seed's alert line: "Purchase <event>: #<qty> $<cost>". */
  const alertLine = (a) =>
    typeof a.message === 'string'
      ? a.message
      : `Purchase ${a.event}: #${a.qty} $${a.cost}`;

  function renderFeed(list, items, empty, render) {
    const nodes = items.map((item) => {
      const li = el('li');
      li.dataset.orderId = item.orderId;
      li.append(el('time', time(item.ts)), ...render(item));
      return li;
    });
    $(list).replaceChildren(
      ...(nodes.length ? nodes : [el('li', empty, 'empty')]),
    );
  }

  function render(snapshot) {
    renderTotals(snapshot.sales);
    renderSales(snapshot.sales);
    renderHistogram(snapshot.histogram);
    renderListeners(snapshot.listeners);
    renderFeed('alerts', snapshot.alerts, 'no alerts yet', (a) => [
      el('span', alertLine(a), 'line'),
    ]);
    renderFeed('winners', snapshot.winners, 'no winners yet', (w) => [
      el('span', w.who, 'who'),
      el('span', `Order Id: ${w.orderId} (#${w.qty} $${w.cost})`, 'line'),
    ]);
    $('updated').textContent =
      `updated ${new Date(snapshot.at).toLocaleTimeString()}`;
  }

  let source = null;
  function connect() {
    source = new EventSource('/dashboard/stream');
    source.addEventListener('hello', (e) => {
      heartbeatMs = JSON.parse(e.data).heartbeatMs ?? heartbeatMs;
      setStatus('live', 'live');
    });
    source.addEventListener('snapshot', (e) => {
      lastSnapshotAt = Date.now();
      render(JSON.parse(e.data));
      document.body.dataset.snapshots = String(++snapshots);
      setStatus('live', 'live');
    });
    source.addEventListener('error', (e) => {
      // Until the stream is back the figures are the last ones seen. EventSource retries a
      // dropped connection by itself, but gives up on a refused one (a box office stopping
      // answers 503): then a new one is opened, as often.
      if (source.readyState === EventSource.OPEN) return;
      setStatus('reconnecting', 'reconnecting…');
      if (e.target === source && source.readyState === EventSource.CLOSED)
        setTimeout(connect, heartbeatMs);
    });
  }
  connect();
  setInterval(() => {
    if (
      lastSnapshotAt &&
      source.readyState === EventSource.OPEN &&
      Date.now() - lastSnapshotAt > 3 * heartbeatMs
    )
      setStatus('stale', 'no update');
  }, 1000);
})();
