// skylet's dashboard: polls /_skylet/dashboard/data/… every few seconds and draws with uPlot.
// No build step: this file runs as it is. Every value from the server is written as text
// (textContent), never as HTML.
"use strict";

(function () {
  const DATA = "/_skylet/dashboard/data/";
  const POLL_MS = 3000;
  const COLORS = ["#2f6fde", "#cf222e", "#1a7f37", "#bf8700", "#8250df", "#0a7ea4", "#e16f24", "#57606a"];
  const view = document.getElementById("view");
  const status = document.getElementById("status");
  const windowSelect = document.getElementById("window");
  let charts = new Map(); // chart key -> {plot, labels}
  let route = "";
  let timer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return "–";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits ?? 1 });
  }

  async function getJson(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
    if (response.status === 403 || response.status === 401) {
      throw new Error("Not signed in: run `skylet dashboard` for a login link");
    }
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function minutes() { return windowSelect.value; }

  // -- charts --------------------------------------------------------------------------------

  function chart(key, title, t, lines, unit) {
    // lines: [{label, values}], aligned with t (epoch seconds). Reuses the chart if its
    // series are the same, so an update is setData, not a new canvas.
    const labels = lines.map((l) => l.label).join("\u0000");
    const data = [t, ...lines.map((l) => l.values)];
    const known = charts.get(key);
    if (known && known.labels === labels && document.body.contains(known.box)) {
      known.plot.setData(data);
      mark(known.box, known.plot);
      return known.box;
    }
    if (known) known.plot.destroy();
    const box = el("div", { class: "chart", "data-chart": key });
    box.append(el("h3", { text: title }));
    const holder = el("div");
    box.append(holder);
    const width = Math.max(320, (view.clientWidth || 900) / 2 - 60);
    const plot = new uPlot(
      {
        width,
        height: 200,
        series: [
          {},
          ...lines.map((l, i) => ({ label: l.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false, points: { show: true, size: 5 },
            value: (u, v) => (v === null ? "–" : fmt(v, 2) + (unit || "")) })),
        ],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true } },
        legend: { show: true },
      },
      data,
      holder,
    );
    charts.set(key, { plot, labels, box });
    mark(box, plot);
    return box;
  }

  // What the chart holds (read back from uPlot, not from the answer): its values' count and
  // sum, for a reader (or a test) to see that it drew data and took an update.
  function mark(box, plot) {
    const series = plot.data.slice(1);
    box.dataset.points = String(series.reduce((n, s) => n + s.filter((v) => v !== null).length, 0));
    box.dataset.total = String(series.reduce((n, s) => n + s.reduce((m, v) => m + (v || 0), 0), 0));
  }

  function resetCharts() {
    for (const { plot } of charts.values()) plot.destroy();
    charts = new Map();
  }

  function figureCharts(prefix, f) {
    const per = f.periodS > 60 ? ` per ${f.periodS / 60} min` : " per minute";
    return el(
      "div",
      { class: "charts" },
      chart(`${prefix}-invocations`, `Invocations${per}`, f.t, [{ label: "Invocations", values: f.invocations }]),
      chart(`${prefix}-duration`, "Duration (ms)", f.t, [
        { label: "avg", values: f.durationAvg },
        { label: "p99", values: f.durationP99 },
        { label: "max", values: f.durationMax },
      ], " ms"),
      chart(`${prefix}-errors`, `Errors and throttles${per}`, f.t, [
        { label: "Errors", values: f.errors },
        { label: "Throttles", values: f.throttles },
      ]),
      chart(`${prefix}-concurrency`, "Concurrent executions (max)", f.t, [{ label: "Concurrency", values: f.concurrency }]),
      chart(`${prefix}-cold`, `Cold starts${per}`, f.t, [{ label: "Cold starts", values: f.coldStarts }]),
    );
  }

  // -- pages ---------------------------------------------------------------------------------

  async function overview() {
    const data = await getJson(`${DATA}overview?minutes=${minutes()}`);
    const rows = data.functions.map((fn) =>
      el("tr", { "data-function": fn.name },
        el("td", {}, el("a", { href: `#/function/${encodeURIComponent(fn.name)}`, text: fn.name })),
        el("td", { text: fn.state }),
        el("td", { class: "num", text: fmt(fn.memoryMb, 0) }),
        el("td", { class: "num", text: fmt(fn.instances, 0) }),
        el("td", { class: "num", "data-field": "invocations", text: fmt(fn.invocations, 0) }),
        el("td", { class: "num", text: fmt(fn.errors, 0) }),
        el("td", { class: "num", text: fmt(fn.throttles, 0) }),
        el("td", { class: "num", text: fmt(fn.coldStarts, 0) }),
        el("td", { class: "num", text: fmt(fn.durationMax, 1) }),
      ));
    const table = el("table", { id: "functions" },
      el("thead", {}, el("tr", {}, ...["Function", "State", "Memory MB", "Instances", "Invocations", "Errors",
        "Throttles", "Cold starts", "Max duration ms"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows));
    const byFunction = Object.entries(data.invocationsByFunction).map(([label, values]) => ({ label, values }));
    const sections = [
      el("section", {}, el("h2", { text: `Functions (last ${data.windowS / 60} min)` }),
        data.functions.length ? table : el("p", { class: "empty", text: "No functions deployed." })),
      el("section", {}, el("h2", { text: "All functions" }), figureCharts("account", data.account),
        byFunction.length ? el("div", { class: "charts" },
          chart("by-function", "Invocations by function", data.account.t, byFunction)) : null),
      await costSection(),
    ];
    return sections;
  }

  async function costSection() {
    // The figures of the cost part, when the server has one (data/cost says which).
    const section = el("section", { id: "cost" }, el("h2", { text: "Cost" }));
    const cost = await getJson(`${DATA}cost?minutes=${minutes()}`);
    section.dataset.cost = cost.available ? "available" : "unavailable";
    if (!cost.available) {
      section.append(el("p", { class: "empty", text: cost.message }));
      return section;
    }
    const rows = Array.isArray(cost.functions) ? cost.functions : [];
    if (!rows.length) {
      section.append(el("pre", { class: "log", text: JSON.stringify(cost.report, null, 2) }));
      return section;
    }
    const keys = Object.keys(rows[0]);
    section.append(el("table", {}, el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", { text: k })))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...keys.map((k) => el("td", { text: String(r[k]) })))))));
    return section;
  }

  async function functionPage(name) {
    const data = await getJson(`${DATA}functions/${encodeURIComponent(name)}?minutes=${minutes()}`);
    const recent = data.recent.map((inv) =>
      el("tr", { "data-request-id": inv.requestId },
        el("td", { text: new Date(inv.timestamp * 1000).toLocaleTimeString() }),
        el("td", { text: inv.requestId }),
        el("td", { class: "num", text: fmt(inv.durationMs, 2) }),
        el("td", {}, el("pre", { class: "log", text: inv.log }))));
    const records = data.asyncRecords.map((r) =>
      el("tr", {}, ...["requestId", "status", "attempts"].map((k) => el("td", { text: String(r[k] ?? "") }))));
    return [
      el("section", {}, el("h2", { text: `${data.name}` }),
        el("p", { text: `handler ${data.handler} · ${data.memoryMb} MB · timeout ${data.timeoutS} s` }),
        figureCharts(`fn-${data.name}`, data.figures)),
      el("section", {}, el("h2", { text: "Recent invocations" }),
        recent.length ? el("table", { id: "recent" }, el("thead", {}, el("tr", {},
          ...["Time", "Request id", "Duration ms", "Log"].map((h) => el("th", { text: h })))), el("tbody", {}, ...recent))
          : el("p", { class: "empty", text: "No invocations in the log yet." })),
      el("section", {}, el("h2", { text: "Asynchronous invocations" }),
        records.length ? el("table", {}, el("tbody", {}, ...records))
          : el("p", { class: "empty", text: "None recorded." })),
    ];
  }

  async function resourcesPage() {
    const data = await getJson(`${DATA}resources`);
    const table = (id, heads, rows) => rows.length
      ? el("table", { id }, el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { text: h })))), el("tbody", {}, ...rows))
      : el("p", { class: "empty", text: "None." });
    return [
      el("section", {}, el("h2", { text: "Queues" }), table("queues", ["Queue", "Visible", "In flight", "Delayed"],
        data.queues.map((q) => el("tr", { "data-queue": q.name }, el("td", { text: q.name }),
          el("td", { class: "num", text: fmt(q.visible, 0) }), el("td", { class: "num", text: fmt(q.inFlight, 0) }),
          el("td", { class: "num", text: fmt(q.delayed, 0) }))))),
      el("section", {}, el("h2", { text: "Topics" }), table("topics", ["Topic", "Subscriptions"],
        data.topics.map((t) => el("tr", { "data-topic": t.name }, el("td", { text: t.name }),
          el("td", { text: t.subscriptions.map((s) => `${s.protocol}: ${s.endpoint}`).join("\n") || "none" }))))),
      el("section", {}, el("h2", { text: "Alarms" }), table("alarms", ["Alarm", "State", "Metric", "Reason"],
        data.alarms.map((a) => el("tr", { "data-alarm": a.name }, el("td", { text: a.name }),
          el("td", { class: `state-${a.state}`, text: a.state }), el("td", { text: a.metric }),
          el("td", { text: a.reason }))))),
    ];
  }

  // A text widget's markdown: headings, lists, paragraphs, **bold**, `code`, [links](…),
  // built as nodes (never innerHTML), links only to http(s) and the page's own anchors.
  function markdown(text) {
    const box = el("div", { class: "markdown" });
    let list = null;
    for (const raw of text.split(/\n/)) {
      const line = raw.trimEnd();
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      const item = /^\s*[-*]\s+(.*)$/.exec(line);
      if (!item) list = null;
      if (heading) box.append(inline(el(`h${Math.min(6, heading[1].length + 1)}`), heading[2]));
      else if (item) {
        if (!list) { list = el("ul"); box.append(list); }
        list.append(inline(el("li"), item[1]));
      } else if (line) box.append(inline(el("p"), line));
    }
    return box;
  }

  function inline(node, text) {
    const pattern = /\*\*([^*]+)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;
    let last = 0;
    for (const m of text.matchAll(pattern)) {
      node.append(text.slice(last, m.index));
      if (m[1]) node.append(el("strong", { text: m[1] }));
      else if (m[2]) node.append(el("code", { text: m[2] }));
      else if (/^(https?:|#)/.test(m[4])) node.append(el("a", { href: m[4], text: m[3] }));
      else node.append(m[3]);
      last = m.index + m[0].length;
    }
    node.append(text.slice(last));
    return node;
  }

  async function dashboardPage(name) {
    const data = await getJson(`${DATA}dashboards/${encodeURIComponent(name)}?minutes=${minutes()}`);
    const grid = el("div", { class: "grid", id: "widgets" });
    data.widgets.forEach((w, i) => {
      const box = el("div", { class: "widget", "data-widget": w.type,
        style: `grid-column: ${w.x + 1} / span ${w.width}; grid-row: ${w.y + 1} / span ${w.height}` });
      if (w.title) box.append(el("h3", { text: w.title }));
      if (w.type === "text") box.append(markdown(w.markdown));
      else if (w.type === "metric" && w.error) box.append(el("p", { class: "error", text: w.error }));
      else if (w.type === "metric") box.append(chart(`dash-${name}-${i}`, "", w.t, w.lines));
      else if (w.type === "alarm") {
        box.append(el("ul", {}, ...w.alarms.map((a) =>
          el("li", {}, `${a.name}: `, el("span", { class: `state-${a.state}`, text: a.state })))));
      } else box.append(el("p", { class: "empty", text: `A ${w.type} widget is not drawn here.` }));
      grid.append(box);
    });
    return [el("section", {}, el("h2", { text: `Dashboard ${data.name}` }), grid)];
  }

  async function dashboardLinks() {
    const holder = document.getElementById("dashboard-links");
    try {
      const { dashboards } = await getJson(`${DATA}dashboards`);
      holder.replaceChildren(...dashboards.map((d) => el("a", { href: `#/dashboard/${encodeURIComponent(d)}`, text: d })));
    } catch (error) {
      holder.replaceChildren();
    }
  }

  // -- the loop ------------------------------------------------------------------------------

  async function render() {
    const hash = location.hash.replace(/^#/, "") || "/";
    const parts = hash.split("/").filter(Boolean).map(decodeURIComponent);
    const fresh = hash !== route;
    if (fresh) { resetCharts(); route = hash; }
    try {
      let sections;
      if (parts[0] === "function" && parts[1]) sections = await functionPage(parts[1]);
      else if (parts[0] === "resources") sections = await resourcesPage();
      else if (parts[0] === "dashboard" && parts[1]) sections = await dashboardPage(parts[1]);
      else sections = await overview();
      if (hash !== route) return; // the user moved on while this loaded
      view.replaceChildren(...sections);
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    } catch (error) {
      status.textContent = error.message;
      if (fresh) view.replaceChildren(el("section", {}, el("p", { class: "error", text: error.message })));
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => { await render(); schedule(); }, POLL_MS);
  }

  window.addEventListener("hashchange", () => { render(); schedule(); });
  windowSelect.addEventListener("change", () => { route = ""; render(); schedule(); });
  dashboardLinks();
  render().then(schedule);
})();
