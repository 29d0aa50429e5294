// One step: facts, parameters, deps/dependents, runs with logs, console and actions.
"use strict";

(() => {
  const {el, clear, getJSON, action, poll, badge, stepLink, time, duration} = trunq;
  const stepId = trunq.page.dataset.stepId;
  const q = (name) => encodeURIComponent(name);
  let current = null;
  let shownRun = null;

  function renderFacts(step) {
    const facts = clear(document.getElementById("step-facts"));
    const add = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", {text: label}), el("dd", {}, value));
    };
    add("family", el("a", {href: "/history?family=" + q(step.family), text: step.family}));
    add("module", step.module);
    add("status message", el("span", {id: "status-message", text: step.status_message || ""}));
    add("progress", step.progress === null ? null : step.progress + " %");
    add("worker", step.worker);
    add("started", time(step.started));
    add("finished", time(step.finished));
    if (step.started && step.finished) add("duration", duration(step.finished - step.started));
    const running = step.status === "RUNNING" || step.status === "BATCH_RUNNING";
    if (running && step.started && step.now) add("elapsed", el("span", {id: "step-elapsed", text: duration(step.now - step.started)}));
    if (step.batch_id) add("batch", el("span", {id: "step-batch", class: "mono", text: `ran in batch ${step.batch_id}`}));
    add("retries", String(step.retries));
    add("priority", String(step.priority));
    if (step.tracking_url && /^https?:\/\//i.test(step.tracking_url)) {
      add("tracking", el("a", {href: step.tracking_url, rel: "noopener noreferrer", text: step.tracking_url}));
    }
    if (Object.keys(step.resources || {}).length) add("resources", JSON.stringify(step.resources));
    document.getElementById("step-progress").style.width = (step.progress || 0) + "%";
  }

  function renderParams(step) {
    const table = clear(document.getElementById("step-params"));
    const names = Object.keys(step.params || {});
    for (const name of names) table.append(el("tr", {}, el("th", {text: name}), el("td", {class: "param", text: step.params[name]})));
    if (!names.length) table.append(el("tr", {}, el("td", {class: "note", text: "no parameters"})));
  }

  function renderLinks(listId, links) {
    const list = clear(document.getElementById(listId));
    for (const link of links) list.append(el("li", {}, trunq.badge(link.status), " ", stepLink(link.step_id)));
    if (!links.length) list.append(el("li", {class: "note", text: "none"}));
  }

  function renderActions(step) {
    const box = clear(document.getElementById("step-actions"));
    if (!trunq.actionsOn) return;
    const button = (label, path) => el("button", {type: "button", "data-action": path, text: label,
      onclick: () => act(path)});
    if (step.status === "DISABLED") box.append(button("re-enable", "re-enable"));
    if (step.status === "FAILED" || step.status === "DISABLED") box.append(button("forgive failures", "forgive"));
    if (step.status === "RUNNING" || step.status === "BATCH_RUNNING") box.append(button("cancel", "cancel"));
  }

  async function act(path) {
    const result = document.getElementById("action-result");
    try {
      await action(`/api/step/${path}?id=${q(stepId)}`);
      result.textContent = path + ": done";
      result.className = "action-result ok";
      await refresh();
    } catch (error) {
      result.textContent = path + ": " + error.message;
      result.className = "action-result error";
    }
  }

  // The console shows the whole conversation kept by the store (sent messages and the
  // step's answers, oldest first), so a reload loses nothing; sending needs the step running.
  let conversation = [];

  function renderConsole(step) {
    const running = step.status === "RUNNING" || step.status === "BATCH_RUNNING";
    document.getElementById("console").hidden =
      !(trunq.actionsOn && step.accepts_messages && (running || conversation.length));
    document.getElementById("console-form").hidden = !running;
  }

  function renderConversation() {
    const log = clear(document.getElementById("console-log"));
    for (const message of conversation) {
      const answered = message.response !== null && message.response !== undefined;
      log.append(el("li", {class: "message", "data-message-id": message.message_id},
        el("span", {class: "when", text: time(message.sent)}), " ",
        el("span", {class: "sent", text: message.content}), " → ",
        el("span", {class: "answer" + (answered ? "" : " pending"),
                    text: answered ? message.response : "waiting for the step…"})));
    }
  }

  async function loadConversation() {
    if (!trunq.actionsOn || !current || !current.accepts_messages) return;
    try {
      conversation = (await action(`/api/step/messages?id=${q(stepId)}`, null, "GET")).messages;
    } catch (error) {
      return;  // no token yet: the token form says so; the log stays as it was
    }
    renderConversation();
    renderConsole(current);
  }

  async function sendMessage(event) {
    event.preventDefault();
    const input = document.getElementById("console-input");
    const content = input.value;
    if (!content.trim()) return;
    input.value = "";
    try {
      const sent = await action(`/api/step/message?id=${q(stepId)}`, {content});
      await loadConversation();
      awaitResponse(sent.message_id);
    } catch (error) {
      document.getElementById("console-log").append(el("li", {class: "message"},
        el("span", {class: "sent", text: content}), " → ",
        el("span", {class: "answer error", text: "not sent: " + error.message})));
    }
  }

  // Between polls, look again twice a second until the step answers (at most 10 minutes).
  function awaitResponse(messageId) {
    const started = Date.now();
    const timer = setInterval(async () => {
      await loadConversation();
      const message = conversation.find((m) => m.message_id === messageId);
      if (!message || message.response != null || Date.now() - started > 10 * 60 * 1000) clearInterval(timer);
    }, 500);
  }

  function renderRuns(runs) {
    const body = clear(document.getElementById("runs-body"));
    for (const run of runs) {
      body.append(el("tr", {"data-run": run.name},
        el("td", {class: "mono", text: run.name}), el("td", {}, badge(run.status)),
        el("td", {text: run.start_time ? new Date(run.start_time).toLocaleString() : ""}),
        el("td", {text: duration(run.duration)}),
        el("td", {}, el("button", {type: "button", text: "logs", onclick: () => showRun(run)}))));
    }
    if (!runs.length) body.append(el("tr", {}, el("td", {colspan: 5, class: "note", text: "no recorded runs"})));
    if (!shownRun && runs.length) showRun(runs[0]);
  }

  async function showRun(run) {
    shownRun = run.name;
    document.getElementById("run-view").hidden = false;
    document.getElementById("run-view-title").textContent = run.name;
    const traceback = document.getElementById("run-traceback");
    traceback.hidden = !run.traceback;
    traceback.textContent = run.traceback || "";
    await refreshLogs();
  }

  async function refreshLogs() {
    if (!shownRun) return;
    const base = "/api/runs/" + q(shownRun) + "/";
    const [out, err] = await Promise.all([getJSON(base + "stdout"), getJSON(base + "stderr")]);
    document.getElementById("run-stdout").textContent = out.text;
    document.getElementById("run-stderr").textContent = err.text;
  }

  // Dependencies come one page at a time; the page the reader chose stays across polls.
  let depsOffset = 0;

  async function refresh() {
    let step;
    // the runs list does not depend on the record: ask for both at once (one round trip of latency)
    const runsRequest = getJSON("/api/step/runs?id=" + q(stepId));
    runsRequest.catch(() => {});  // awaited below; a failure there must not go unhandled meanwhile
    try {
      step = await getJSON("/api/step?id=" + q(stepId) + "&deps_offset=" + depsOffset);
    } catch (error) {
      document.getElementById("step-missing").hidden = false;
      throw error;
    }
    current = step;
    const status = document.getElementById("step-status");
    status.textContent = step.status;
    status.className = "badge s-" + step.status.toLowerCase();
    document.getElementById("history-link").href = "/history?family=" + q(step.family);
    renderFacts(step);
    renderParams(step);
    renderActions(step);
    renderConsole(step);
    const talking = loadConversation();
    const expl = document.getElementById("step-expl");
    document.getElementById("expl-card").hidden = !step.expl;
    expl.textContent = step.expl || "";
    renderLinks("step-deps", step.dependencies);
    const shownTo = step.deps_offset + step.dependencies.length;
    document.getElementById("deps-count").textContent = step.deps_total > step.dependencies.length
      ? `${step.deps_offset + 1}–${shownTo} of ${step.deps_total}` : `${step.deps_total}`;
    document.getElementById("deps-pager").hidden = step.deps_total <= step.dependencies.length && !step.deps_offset;
    document.getElementById("deps-prev").disabled = !step.deps_offset;
    document.getElementById("deps-next").disabled = shownTo >= step.deps_total;
    renderLinks("step-dependents", step.dependents);
    document.getElementById("dependents-note").hidden = step.dependents_complete;
    const runs = await runsRequest;
    renderRuns(runs.runs);
    await talking;
    if (current.status === "RUNNING") await refreshLogs();
  }

  const pageDeps = async (direction) => {
    const size = current ? current.deps_page_size : 0;
    depsOffset = Math.max(0, depsOffset + direction * size);
    await refresh();
  };
  document.getElementById("deps-prev").addEventListener("click", () => pageDeps(-1));
  document.getElementById("deps-next").addEventListener("click", () => pageDeps(1));
  document.getElementById("console-form").addEventListener("submit", sendMessage);
  poll(refresh);
})();
