// TaskList directories ([web] tasklist_dirs): counts, and the Run of every executed task.
"use strict";

(() => {
  const {el, clear, getJSON, poll} = trunq;
  const directory = document.getElementById("tasklist-root").dataset.dir;
  const q = (params) => new URLSearchParams(params).toString();

  async function showLog(name) {
    const box = clear(document.getElementById("tasklist-log"));
    for (const stream of ["stdout", "stderr"]) {
      const log = await getJSON(`/api/tasklist/${encodeURIComponent(name)}/${stream}?` + q({dir: directory}));
      box.append(el("h3", {text: `${name} — ${stream}`}), el("pre", {class: "log", text: log.text || "(empty)"}));
    }
  }

  async function refreshList() {
    const data = await getJSON("/api/tasklists");
    clear(document.getElementById("tasklist-head")).append(el("tr", {},
      ["directory", "todo", "done", "fail"].map((name) => el("th", {text: name}))));
    const body = clear(document.getElementById("tasklist-body"));
    for (const item of data.tasklists) {
      const link = el("a", {href: "/tasklists?" + q({dir: item.dir}), class: "mono", text: item.dir});
      body.append(el("tr", {}, el("td", {}, link), el("td", {text: item.todo}), el("td", {text: item.done}),
        el("td", {text: item.fail})));
    }
    if (!data.tasklists.length) body.append(el("tr", {}, el("td", {colspan: 4, class: "note",
      text: "No TaskList directories configured ([web] tasklist_dirs)."})));
  }

  async function refreshRuns() {
    const data = await getJSON("/api/tasklist?" + q({dir: directory}));
    clear(document.getElementById("tasklist-head")).append(el("tr", {},
      ["task run", "status", "function", "started", "error"].map((name) => el("th", {text: name}))));
    const body = clear(document.getElementById("tasklist-body"));
    body.append(el("tr", {}, el("td", {colspan: 5, class: "note",
      text: `todo ${data.counts.todo} · done ${data.counts.done} · fail ${data.counts.fail}`})));
    for (const run of data.runs) {
      const link = el("a", {href: "#", class: "mono", text: run.name});
      link.addEventListener("click", (event) => { event.preventDefault(); showLog(run.name); });
      body.append(el("tr", {"data-run": run.name}, el("td", {}, link), el("td", {text: run.status}),
        el("td", {class: "mono", text: (run.step && run.step.family) || run.fn_name || ""}),
        el("td", {text: run.start_time || ""}), el("td", {class: "mono", text: run.error || ""})));
    }
  }

  poll(directory ? refreshRuns : refreshList);
})();
