// Upstream dependency graph: a small layered layout drawn as SVG (root on top, its
// dependencies below). Layer = longest path from the root; nodes of a layer are ordered by
// the mean position of the nodes that need them, and wide layers wrap onto several rows.
"use strict";

(() => {
  const {svg, clear, getJSON, poll, STATUS_COLORS} = trunq;
  const stepId = trunq.page.dataset.stepId;
  const NODE_W = 176, NODE_H = 36, GAP_X = 16, GAP_Y = 56, PER_ROW = 7, MARGIN = 16;
  const collapseSelect = document.getElementById("graph-collapse");
  const depthSelect = document.getElementById("graph-depth");
  const LINEAGE_LIMIT = 200;  // nodes of an upstream/downstream view; the rest is "more…"
  const TITLES = {all: "Dependency graph", upstream: "Upstream", downstream: "Downstream"};
  const urlParams = new URLSearchParams(location.search);
  let view = ["upstream", "downstream"].includes(urlParams.get("view")) ? urlParams.get("view") : "all";
  if (urlParams.get("depth")) depthSelect.value = urlParams.get("depth");
  let lastDrawn = "";
  // dagre's script comes after this one (see graph.html): the data is asked for meanwhile
  const dagreLoaded = new Promise((resolve) => {
    if (window.dagre || document.readyState === "complete") resolve();
    else window.addEventListener("load", resolve, {once: true});
  });

  function layers(graph) {
    const out = new Map(graph.nodes.map((n) => [n.id, []]));
    const indegree = new Map(graph.nodes.map((n) => [n.id, 0]));
    for (const edge of graph.edges) {
      out.get(edge.from).push(edge.to);
      indegree.set(edge.to, indegree.get(edge.to) + 1);
    }
    const layer = new Map(graph.nodes.map((n) => [n.id, 0]));
    const ready = graph.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
    while (ready.length) {  // Kahn's order: every node after all that need it
      const id = ready.pop();
      for (const next of out.get(id)) {
        layer.set(next, Math.max(layer.get(next), layer.get(id) + 1));
        indegree.set(next, indegree.get(next) - 1);
        if (indegree.get(next) === 0) ready.push(next);
      }
    }
    return layer;
  }

  function layout(graph) {
    const layer = layers(graph);
    const parents = new Map(graph.nodes.map((n) => [n.id, []]));
    for (const edge of graph.edges) parents.get(edge.to).push(edge.from);
    const byLayer = [];
    for (const node of graph.nodes) (byLayer[layer.get(node.id)] ||= []).push(node);
    const position = new Map();
    const widest = Math.min(PER_ROW, Math.max(...byLayer.filter(Boolean).map((nodes) => nodes.length)));
    const width = MARGIN * 2 + widest * (NODE_W + GAP_X) - GAP_X;
    let row = 0;
    for (const nodes of byLayer.filter(Boolean)) {
      const meanParent = (node) => {
        const xs = parents.get(node.id).map((p) => position.get(p)?.order).filter((x) => x !== undefined);
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
      };
      nodes.sort((a, b) => meanParent(a) - meanParent(b) || a.label.localeCompare(b.label));
      nodes.forEach((node, index) => {
        const column = index % PER_ROW;
        const inRow = Math.min(PER_ROW, nodes.length - (index - column));  // centre short rows
        const indent = (widest - inRow) * (NODE_W + GAP_X) / 2;
        const x = MARGIN + indent + column * (NODE_W + GAP_X);
        const y = MARGIN + (row + Math.floor(index / PER_ROW)) * (NODE_H + GAP_Y);
        position.set(node.id, {x, y, order: index / nodes.length * PER_ROW});
      });
      row += Math.ceil(nodes.length / PER_ROW);
    }
    return {position, width, height: MARGIN * 2 + row * (NODE_H + GAP_Y) - GAP_Y};
  }

  // dagre (vendored, static/vendor/) lays out layers with few crossings and routes each edge
  // around the boxes; the hand-written layout above stays as the fallback if it is missing.
  function dagreLayout(graph) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({rankdir: "TB", nodesep: GAP_X, ranksep: GAP_Y, marginx: MARGIN, marginy: MARGIN});
    g.setDefaultEdgeLabel(() => ({}));
    for (const node of graph.nodes) g.setNode(node.id, {width: NODE_W, height: NODE_H});
    for (const edge of graph.edges) g.setEdge(edge.from, edge.to);
    dagre.layout(g);
    const position = new Map(graph.nodes.map((n) => {
      const p = g.node(n.id);
      return [n.id, {x: p.x - NODE_W / 2, y: p.y - NODE_H / 2}];
    }));
    const routes = new Map(graph.edges.map((e) => [e.from + "\u0000" + e.to, g.edge(e.from, e.to).points]));
    const size = g.graph();
    return {position, routes, width: size.width, height: size.height};
  }

  function shorten(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function nodeTitle(node) {
    if (!node.statuses) return `${node.label}\n${node.status}`;
    const counts = Object.entries(node.statuses).map(([s, n]) => `${s}: ${n}`).join(", ");
    return `${node.label}: ${node.count} steps\n${counts}`;
  }

  function nodeHref(node) {
    if (node.more_of) return `/graph?id=${encodeURIComponent(node.more_of)}&view=${view}&depth=${depthSelect.value}`;
    if (node.id.startsWith("family:") && node.statuses) return "/steps?family=" + encodeURIComponent(node.family);
    return "/step?id=" + encodeURIComponent(node.id);
  }

  function draw(graph) {
    const canvas = clear(document.getElementById("graph"));
    const {position, width, height, routes} = window.dagre ? dagreLayout(graph) : layout(graph);
    const w = Math.max(width, 300), h = Math.max(height, 100);
    canvas.setAttribute("viewBox", `0 0 ${w} ${h}`);  // zoom changes width/height only
    canvas.dataset.w = w;
    canvas.dataset.h = h;
    const edges = svg("g", {class: "edges"});
    for (const edge of graph.edges) {
      const points = routes && routes.get(edge.from + "\u0000" + edge.to);
      if (points && points.length) {
        edges.append(svg("path", {d: "M" + points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" L")}));
        continue;
      }
      const a = position.get(edge.from), b = position.get(edge.to);
      const x1 = a.x + NODE_W / 2, y1 = a.y + NODE_H, x2 = b.x + NODE_W / 2, y2 = b.y;
      const bend = Math.max(20, (y2 - y1) / 2);
      edges.append(svg("path", {d: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`}));
    }
    canvas.append(edges);
    for (const node of graph.nodes) {
      const p = position.get(node.id);
      const grouped = Boolean(node.statuses);
      // a cut-short walk may have missed members: say "at least", never draw the group as complete
      const count = graph.truncated && grouped ? `≥${node.count}` : `${node.count}`;
      const label = node.count > 1 ? `${shorten(node.label, 16)} ×${count}` : shorten(node.label, 25);
      const group = svg("a", {href: nodeHref(node), class: "node" + (grouped ? " group" : ""), "data-id": node.id,
                              "data-status": node.status},
        svg("title", {text: nodeTitle(node)}),
        svg("rect", {x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6,
                     fill: grouped ? "#556" : STATUS_COLORS[node.status] || STATUS_COLORS.UNKNOWN,
                     class: node.id === graph.root ? "root" : ""}));
      if (grouped) {  // one segment per status, as wide as its share: a family is never one colour
        let x = p.x + 4;
        for (const [status, n] of Object.entries(node.statuses)) {
          const w = (NODE_W - 8) * n / node.count;
          group.append(svg("rect", {x, y: p.y + NODE_H - 9, width: Math.max(w, 1), height: 6,
                                    fill: STATUS_COLORS[status] || STATUS_COLORS.UNKNOWN, class: "share",
                                    "data-share": status}));
          x += w;
        }
      }
      group.append(svg("text", {x: p.x + NODE_W / 2, y: p.y + NODE_H / 2 + (grouped ? 0 : 4), "text-anchor": "middle",
                                text: label}));
      canvas.append(group);
    }
    const info = [`${graph.step_count} steps`, `${graph.nodes.length} nodes`, `${graph.edges.length} edges`];
    if (graph.collapsed) info.push("grouped by family");
    if (graph.truncated) info.push("cut at the node limit");
    if (graph.direction) info.push(`${graph.direction}, depth ${depthSelect.value}`);
    document.getElementById("graph-info").textContent = info.join(" · ");
  }

  async function refresh() {
    const id = encodeURIComponent(stepId);
    const graph = await getJSON(view === "all" ? `/api/graph?id=${id}&collapse=${collapseSelect.value}`
      : `/api/step/${view}?id=${id}&depth=${depthSelect.value}&limit=${LINEAGE_LIMIT}`);
    await dagreLoaded;
    const signature = JSON.stringify(graph);
    if (signature !== lastDrawn) {
      draw(graph);
      applyView();
      lastDrawn = signature;
    }
  }

  // Search highlights matching nodes and scrolls to the first; zoom scales the drawing;
  // focus dims every node that is not failed or running.
  function applyView() {
    const canvas = document.getElementById("graph");
    const term = (document.getElementById("graph-search").value || "").toLowerCase();
    const focus = document.getElementById("graph-focus").checked;
    let first = null;
    for (const node of canvas.querySelectorAll("a.node")) {
      const hit = term && node.dataset.id.toLowerCase().includes(term);
      node.classList.toggle("match", Boolean(hit));
      const live = ["FAILED", "UPSTREAM_FAILED", "RUNNING", "BATCH_RUNNING"].includes(node.dataset.status)
        || [...node.querySelectorAll(".share")].some((r) => ["FAILED", "RUNNING"].includes(r.dataset.share));
      node.classList.toggle("dimmed", focus && !live);
      if (hit && !first) first = node;
    }
    const zoom = Number(document.getElementById("graph-zoom").value) || 1;
    canvas.setAttribute("width", Number(canvas.dataset.w || 300) * zoom);
    canvas.setAttribute("height", Number(canvas.dataset.h || 100) * zoom);
    if (first) first.scrollIntoView({block: "center", inline: "center"});
  }

  for (const id of ["graph-search", "graph-focus", "graph-zoom"]) {
    document.getElementById(id).addEventListener("input", applyView);
  }
  // The view (whole graph, upstream or downstream of this node) lives in the URL: reload keeps it.
  function showView() {
    document.getElementById("graph-title").textContent = TITLES[view];
    for (const button of document.querySelectorAll("#graph-views button")) {
      button.classList.toggle("selected", button.dataset.view === view);
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    const q = new URLSearchParams({id: stepId});
    if (view !== "all") { q.set("view", view); q.set("depth", depthSelect.value); }
    history.replaceState(null, "", "?" + q);
  }
  for (const button of document.querySelectorAll("#graph-views button")) {
    button.addEventListener("click", () => { view = button.dataset.view; showView(); lastDrawn = ""; refresh(); });
  }
  depthSelect.addEventListener("change", () => { showView(); lastDrawn = ""; refresh(); });
  showView();
  trunq.legend(document.getElementById("legend"));
  collapseSelect.addEventListener("change", () => { lastDrawn = ""; refresh(); });
  poll(refresh);
})();
