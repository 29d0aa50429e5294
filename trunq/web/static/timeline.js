// Gantt chart of a build: one row per started step, from started to finished (or now).
"use strict";

(() => {
  const {svg, clear, getJSON, poll, duration, STATUS_COLORS} = trunq;
  const ROW_H = 20, LABEL_W = 320, CHART_W = 900, TOP = 28, MAX_ROWS = 1000;
  let root = trunq.page.dataset.root || "";

  function ticks(start, end) {
    const span = Math.max(end - start, 1);
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
    const every = steps.find((s) => span / s <= 10) || 86400;
    const marks = [];
    for (let t = 0; t <= span; t += every) marks.push(t);
    return marks;
  }

  function draw(data) {
    const canvas = clear(document.getElementById("timeline"));
    const bars = data.bars.slice(0, MAX_ROWS);
    const info = `${data.bars.length} started steps, ${data.not_started} not started` +
      (data.truncated ? " · cut at the node limit" : "");
    document.getElementById("timeline-info").textContent = info;
    if (!bars.length) {
      canvas.setAttribute("width", 400); canvas.setAttribute("height", 40);
      canvas.append(svg("text", {x: 10, y: 24, text: "Nothing has started yet."}));
      return;
    }
    const start = Math.min(...bars.map((b) => b.started));
    const end = Math.max(...bars.map((b) => b.finished || data.now));
    const scale = CHART_W / Math.max(end - start, 0.001);
    canvas.setAttribute("width", LABEL_W + CHART_W + 40);
    canvas.setAttribute("height", TOP + bars.length * ROW_H + 10);
    for (const mark of ticks(start, end)) {
      const x = LABEL_W + mark * scale;
      canvas.append(svg("line", {x1: x, x2: x, y1: TOP - 6, y2: TOP + bars.length * ROW_H, class: "tick"}),
        svg("text", {x, y: TOP - 10, "text-anchor": "middle", class: "tick-label", text: "+" + duration(mark)}));
    }
    bars.forEach((bar, row) => {
      const y = TOP + row * ROW_H;
      const finished = bar.finished || data.now;
      const x = LABEL_W + (bar.started - start) * scale;
      const width = Math.max(2, (finished - bar.started) * scale);
      const label = bar.step_id.length > 44 ? bar.step_id.slice(0, 43) + "…" : bar.step_id;
      canvas.append(svg("a", {href: "/step?id=" + encodeURIComponent(bar.step_id), class: "bar", "data-id": bar.step_id},
        svg("title", {text: `${bar.step_id}\n${bar.status} on ${bar.worker || "?"}, ${duration(finished - bar.started)}`}),
        svg("text", {x: LABEL_W - 8, y: y + 14, "text-anchor": "end", class: "row-label", text: label}),
        svg("rect", {x, y: y + 3, width, height: ROW_H - 6, rx: 3, fill: STATUS_COLORS[bar.status] || "#bbb"})));
    });
  }

  async function refresh() {
    const url = "/api/timeline" + (root ? "?root=" + encodeURIComponent(root) : "");
    draw(await getJSON(url));
  }

  document.getElementById("timeline-form").addEventListener("submit", (event) => {
    event.preventDefault();
    root = document.getElementById("timeline-root").value.trim();
    history.replaceState(null, "", root ? "?root=" + encodeURIComponent(root) : location.pathname);
    refresh();
  });
  trunq.legend(document.getElementById("legend"));
  poll(refresh);
})();
