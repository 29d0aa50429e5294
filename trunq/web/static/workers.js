// Live workers: heartbeat age, what they report about themselves, which steps they run and for how long.
"use strict";

(() => {
  const {el, clear, getJSON, poll, stepLink, ago, badge, duration} = trunq;

  function details(worker) {
    const list = el("dl", {class: "facts small"});
    for (const [key, value] of Object.entries(worker)) {
      if (["id", "last_heartbeat", "running", "running_steps"].includes(key)) continue;
      list.append(el("dt", {text: key}), el("dd", {text: typeof value === "object" ? JSON.stringify(value) : value}));
    }
    return list;
  }

  function runningStep(step, now) {
    const item = el("li", {"data-step": step.step_id}, stepLink(step.step_id));
    if (step.status !== "RUNNING") item.append(" ", badge(step.status));
    const facts = [];
    if (step.started) facts.push("running for " + duration(Math.max(0, now - step.started)));
    if (step.worker_pid) facts.push("pid " + step.worker_pid);
    if (facts.length) item.append(" ", el("span", {class: "note elapsed", text: facts.join(", ")}));
    return item;
  }

  function runningList(worker, now) {
    const steps = worker.running_steps || worker.running.map((id) => ({step_id: id, status: "RUNNING"}));
    if (!steps.length) return el("span", {class: "note", text: "idle"});
    return el("ul", {class: "steplist"}, steps.map((step) => runningStep(step, now)));
  }

  async function refresh() {
    const data = await getJSON("/api/workers");
    const body = clear(document.getElementById("workers-body"));
    for (const worker of data.workers) {
      body.append(el("tr", {"data-worker": worker.id},
        el("td", {class: "mono", text: worker.id}),
        el("td", {text: ago(worker.last_heartbeat, data.now)}),
        el("td", {}, details(worker)),
        el("td", {}, runningList(worker, data.now))));
    }
    if (!data.workers.length) body.append(el("tr", {}, el("td", {colspan: 4, class: "note", text: "No live workers."})));
    document.getElementById("workers-info").textContent = `${data.workers.length} alive`;
  }

  poll(refresh);
})();
