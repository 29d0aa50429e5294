// History of a family (from the history DB): statistics, durations over time, failures per day.
"use strict";

(() => {
  const {el, svg, clear, getJSON, badge, duration, STATUS_COLORS} = trunq;
  const family = trunq.page.dataset.family;
  const W = 900, H = 220, PAD = 44;

  function axes(canvas, label) {
    canvas.setAttribute("width", W);
    canvas.setAttribute("height", H);
    canvas.append(svg("line", {x1: PAD, x2: W - 10, y1: H - PAD, y2: H - PAD, class: "axis"}),
      svg("line", {x1: PAD, x2: PAD, y1: 10, y2: H - PAD, class: "axis"}),
      svg("text", {x: 4, y: 18, class: "tick-label", text: label}));
  }

  function durationChart(runs) {
    const canvas = clear(document.getElementById("duration-chart"));
    axes(canvas, "seconds");
    const points = runs.filter((r) => r.duration !== null).map((r) => ({...r, t: Date.parse(r.ts)}));
    if (!points.length) return;
    const t0 = Math.min(...points.map((p) => p.t)), t1 = Math.max(...points.map((p) => p.t));
    const top = Math.max(...points.map((p) => p.duration)) || 1;
    const x = (t) => PAD + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * (W - PAD - 20);
    const y = (d) => H - PAD - (d / top) * (H - PAD - 20);
    canvas.append(svg("text", {x: PAD - 4, y: 24, "text-anchor": "end", class: "tick-label", text: top.toFixed(1)}));
    for (const p of points) {
      canvas.append(svg("circle", {cx: x(p.t), cy: y(p.duration), r: 4, fill: STATUS_COLORS[p.status] || "#d9534f"},
        svg("title", {text: `${p.step_id}\n${p.status} ${duration(p.duration)} at ${new Date(p.t).toLocaleString()}`})));
    }
  }

  function failureChart(days) {
    const canvas = clear(document.getElementById("failure-chart"));
    axes(canvas, "runs");
    if (!days.length) return;
    const top = Math.max(...days.map((d) => d.runs)) || 1;
    const slot = (W - PAD - 20) / days.length;
    days.forEach((day, i) => {
      const x = PAD + i * slot + 2, width = Math.max(2, slot - 4);
      const scale = (n) => (n / top) * (H - PAD - 20);
      canvas.append(
        svg("rect", {x, y: H - PAD - scale(day.runs), width, height: scale(day.runs), fill: STATUS_COLORS.DONE},
          svg("title", {text: `${day.day}: ${day.runs} runs, ${day.failures} failed`})),
        svg("rect", {x, y: H - PAD - scale(day.failures), width, height: scale(day.failures), fill: STATUS_COLORS.FAILED}),
        svg("text", {x: x + width / 2, y: H - PAD + 14, "text-anchor": "middle", class: "tick-label", text: day.day.slice(5)}));
    });
  }

  function stats(summary) {
    const facts = clear(document.getElementById("history-stats"));
    const rate = (summary.failure_rate * 100).toFixed(1) + " %";
    const rows = [["runs", summary.runs], ["failures", summary.failures], ["failure rate", rate],
      ["median duration", duration(summary.median_duration)], ["mean duration", duration(summary.mean_duration)],
      ["longest", duration(summary.max_duration)]];
    for (const [label, value] of rows) facts.append(el("dt", {text: label}), el("dd", {text: value}));
  }

  function table(runs) {
    const body = clear(document.getElementById("history-body"));
    for (const run of runs) {
      body.append(el("tr", {},
        el("td", {text: new Date(run.ts).toLocaleString()}), el("td", {}, badge(run.status)),
        el("td", {}, trunq.stepLink(run.step_id)), el("td", {text: duration(run.duration)}),
        el("td", {text: run.worker || ""}), el("td", {class: "message", text: run.error || ""})));
    }
  }

  async function showFamily() {
    const data = await getJSON("/api/history/" + encodeURIComponent(family));
    stats(data.stats);
    durationChart(data.runs);
    failureChart(data.stats.by_day);
    table(data.runs);
  }

  async function showFamilies() {
    const data = await getJSON("/api/history");
    const list = clear(document.getElementById("history-families"));
    for (const name of data.families) {
      list.append(el("li", {}, el("a", {href: "/history?family=" + encodeURIComponent(name), text: name})));
    }
    if (!data.families.length) list.append(el("li", {class: "note", text: "No history recorded yet."}));
  }

  trunq.poll(family ? showFamily : showFamilies);
})();
