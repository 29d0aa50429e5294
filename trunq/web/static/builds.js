// Builds: running and recent builds with a per-status progress bar; a build's page with its
// roots (failures first), links to its graph and timeline, and cancel / re-run actions.
"use strict";

(() => {
  const {el, clear, getJSON, action, poll, badge, stepLink, duration, time, STATUS_COLORS} = trunq;
  const buildId = trunq.page.dataset.buildId;

  // One segment per status, widths proportional to counts: never one colour for the whole build.
  function statusBar(counts) {
    const entries = Object.entries(counts || {}).filter(([, n]) => n > 0);
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    const bar = el("div", {class: "statusbar", title: entries.map(([s, n]) => `${s} ${n}`).join(", ")});
    for (const [status, n] of entries) {
      bar.append(el("div", {class: "segment", "data-status": status,
        style: {width: (100 * n / total) + "%", background: STATUS_COLORS[status] || "#999"}}));
    }
    return el("div", {}, bar, el("span", {class: "note", text: entries.map(([s, n]) => `${s.toLowerCase()} ${n}`).join(" · ")}));
  }

  function who(by) {
    return by ? `${by.user || "?"}@${by.host || "?"} (pid ${by.pid || "?"})` : "";
  }

  function row(build) {
    return el("tr", {"data-build": build.build_id},
      el("td", {}, el("a", {href: "/builds/" + encodeURIComponent(build.build_id), class: "mono", text: build.build_id})),
      el("td", {}, badge(build.status)), el("td", {}, statusBar(build.counts)),
      el("td", {class: "mono", text: build.root_ids.join(", ")}), el("td", {text: who(build.started_by)}),
      el("td", {text: duration(build.duration)}));
  }

  function fill(id, builds, empty) {
    const body = clear(document.getElementById(id));
    builds.forEach((build) => body.append(row(build)));
    if (!builds.length) body.append(el("tr", {}, el("td", {colspan: 6, class: "note", text: empty})));
  }

  async function refreshList() {
    const data = await getJSON("/api/builds?limit=100");
    fill("builds-running", data.running, "No build is running.");
    fill("builds-recent", data.recent, "No recent builds.");
  }

  async function refreshBuild() {
    const data = await getJSON("/api/builds/" + encodeURIComponent(buildId));
    const b = data.build;
    clear(document.getElementById("build-status")).append(badge(b.status));
    const facts = clear(document.getElementById("build-facts"));
    const add = (k, v) => {
      if (v === null || v === undefined || v === "") return;
      facts.append(el("dt", {text: k}), el("dd", {text: v}));
    };
    add("started by", who(b.started_by)); add("created", time(b.created)); add("started", time(b.started));
    add("ended", time(b.ended)); add("duration", duration(b.duration)); add("driver", b.driver);
    add("adoptions", b.adoptions); add("summary", b.summary); add("exit code", b.exit_code);
    clear(document.getElementById("build-progress")).append(statusBar(b.counts));
    const links = clear(document.getElementById("build-links"));
    for (const root of b.root_ids) {
      links.append(el("a", {href: "/graph?id=" + encodeURIComponent(root), text: "graph"}), " · ",
        el("a", {href: "/timeline?root=" + encodeURIComponent(root), text: "timeline"}), ` of ${root} `);
    }
    const body = clear(document.getElementById("build-roots"));
    for (const root of data.roots) {
      body.append(el("tr", {"data-step-id": root.step_id}, el("td", {}, stepLink(root.step_id)),
        el("td", {}, badge(root.status)), el("td", {class: "mono", text: root.expl || ""})));
    }
    const cancel = document.getElementById("build-cancel");
    if (cancel) cancel.disabled = b.ended_flag;
  }

  function setupActions() {
    const result = document.getElementById("build-result") || document.getElementById("build-action-result");
    const wire = (id, path, question) => {
      const button = document.getElementById(id);
      if (!button) return;
      button.addEventListener("click", async () => {
        if (!window.confirm(question)) return;
        try {
          const answer = await action(`/api/builds/${encodeURIComponent(buildId)}/${path}`, {});
          result.className = "action-result";
          result.textContent = answer.rerun_of ? "" : "cancel requested";
          if (answer.rerun_of) {
            result.append("queued ", el("a", {href: "/builds/" + encodeURIComponent(answer.build_id),
              class: "mono", id: "rerun-link", text: answer.build_id}));
          }
        } catch (error) {
          result.className = "action-result error";
          result.textContent = path + ": " + error.message;
        }
      });
    };
    wire("build-cancel", "cancel", `Cancel build ${buildId}? Running steps are asked to stop.`);
    wire("build-rerun", "rerun", `Queue a new build of the same roots as ${buildId}?`);
  }

  if (buildId) { setupActions(); poll(refreshBuild); } else { poll(refreshList); }
})();
