// Recent runs from the runs folder; a click shows a run's stdout and stderr.
"use strict";

(() => {
  const {el, clear, getJSON, poll, badge, duration} = trunq;

  async function showLog(name) {
    const box = clear(document.getElementById("run-log"));
    for (const stream of ["stdout", "stderr"]) {
      const log = await getJSON(`/api/runs/${encodeURIComponent(name)}/${stream}`);
      box.append(el("h3", {text: `${name} — ${stream}`}), el("pre", {class: "log", text: log.text || "(empty)"}));
    }
  }

  async function refresh() {
    const data = await getJSON("/api/runs?limit=200");
    const body = clear(document.getElementById("runs-body"));
    for (const run of data.runs) {
      const link = el("a", {href: "#", class: "mono", text: run.name});
      link.addEventListener("click", (event) => { event.preventDefault(); showLog(run.name); });
      body.append(el("tr", {"data-run": run.name}, el("td", {}, link), el("td", {}, badge(run.status)),
        el("td", {text: run.start_time || ""}), el("td", {text: duration(run.duration)}),
        el("td", {text: run.host || ""}), el("td", {class: "mono", text: run.error || ""})));
    }
    if (!data.runs.length) body.append(el("tr", {}, el("td", {colspan: 6, class: "note", text: "No runs yet."})));
  }

  poll(refresh);
})();
