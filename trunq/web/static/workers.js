// Live workers: heartbeat age, what they report about themselves, which steps they run.
"use strict";

(() => {
  const {el, clear, getJSON, poll, stepLink, ago} = trunq;

  function details(worker) {
    const list = el("dl", {class: "facts small"});
    for (const [key, value] of Object.entries(worker)) {
      if (["id", "last_heartbeat", "running"].includes(key)) continue;
      list.append(el("dt", {text: key}), el("dd", {text: typeof value === "object" ? JSON.stringify(value) : value}));
    }
    return list;
  }

  async function refresh() {
    const data = await getJSON("/api/workers");
    const body = clear(document.getElementById("workers-body"));
    for (const worker of data.workers) {
      body.append(el("tr", {"data-worker": worker.id},
        el("td", {class: "mono", text: worker.id}),
        el("td", {text: ago(worker.last_heartbeat, data.now)}),
        el("td", {}, details(worker)),
        el("td", {}, el("ul", {class: "steplist"}, worker.running.map((id) => el("li", {}, stepLink(id)))))));
    }
    if (!data.workers.length) body.append(el("tr", {}, el("td", {colspan: 4, class: "note", text: "No live workers."})));
    document.getElementById("workers-info").textContent = `${data.workers.length} alive`;
  }

  poll(refresh);
})();
