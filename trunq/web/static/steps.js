// The step list: counts by status, filters, paging; refreshed every poll.
"use strict";

(() => {
  const {el, clear, getJSON, poll, badge, stepLink, progressBar, ago} = trunq;
  const PAGE_SIZE = 50;
  const params = new URLSearchParams(location.search);
  const state = {
    status: params.get("status") || "", family: params.get("family") || "",
    search: params.get("search") || "", offset: Number(params.get("offset")) || 0,
    sort: params.get("sort") || "updated", order: params.get("order") || "desc",
  };
  const statusSelect = document.getElementById("filter-status");
  const familyInput = document.getElementById("filter-family");
  const searchInput = document.getElementById("filter-search");

  function query() {
    const q = new URLSearchParams({offset: state.offset, limit: PAGE_SIZE});
    for (const key of ["status", "family", "search"]) if (state[key]) q.set(key, state[key]);
    if (state.sort !== "updated" || state.order !== "desc") { q.set("sort", state.sort); q.set("order", state.order); }
    return q;
  }

  function keepInUrl() {
    const q = query();
    q.delete("limit");
    if (!state.offset) q.delete("offset");
    history.replaceState(null, "", q.toString() ? "?" + q : location.pathname);
  }

  function renderCounts(counts, statuses) {
    const box = clear(document.getElementById("status-counts"));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const chip = (label, value, count) => el("button", {
      type: "button", class: "count" + (state.status === value ? " selected" : "") + (value ? " s-" + value.toLowerCase() : ""),
      "data-status": value || "ALL",
      onclick: () => { state.status = value; state.offset = 0; statusSelect.value = value; refresh(); },
    }, el("span", {class: "n", text: count}), el("span", {class: "label", text: label}));
    box.append(chip("all", "", total));
    for (const status of statuses) box.append(chip(status.toLowerCase(), status, counts[status] || 0));
  }

  let familiesShown = "";
  function renderFamilies(familyCounts) {
    const names = Object.keys(familyCounts).sort().slice(0, 500);
    const signature = JSON.stringify(names.map((name) => [name, familyCounts[name]]));
    if (signature === familiesShown) return;  // unchanged: leave the DOM alone on this poll
    familiesShown = signature;
    const list = clear(document.getElementById("families"));
    for (const name of names) list.append(el("option", {value: name, text: familyCounts[name] + " steps"}));
  }

  function renderRows(page) {
    const body = clear(document.getElementById("steps-body"));
    for (const step of page.steps) {
      body.append(el("tr", {"data-step-id": step.step_id, "data-status": step.status},
        el("td", {}, badge(step.status)),
        el("td", {}, stepLink(step.step_id)),
        el("td", {}, el("a", {href: "?family=" + encodeURIComponent(step.family), text: step.family})),
        el("td", {class: "message", text: step.status_message || ""}),
        el("td", {}, progressBar(step.progress)),
        el("td", {text: step.worker || ""}),
        el("td", {class: "when", text: ago(step.updated)})));
    }
    if (!page.steps.length) body.append(el("tr", {}, el("td", {colspan: 7, class: "note", text: "No steps match."})));
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.steps.length;
    document.getElementById("page-info").textContent = `${first}–${last} of ${page.total}`;
    document.getElementById("prev").disabled = page.offset <= 0;
    document.getElementById("next").disabled = last >= page.total;
  }

  // Column headers sort server-side; a second click on the same column flips the order.
  function renderSortHeaders() {
    for (const th of document.querySelectorAll("#steps-table th[data-sort]")) {
      const active = th.dataset.sort === state.sort;
      th.classList.toggle("sorted", active);
      th.setAttribute("aria-sort", active ? (state.order === "asc" ? "ascending" : "descending") : "none");
      th.querySelector(".arrow").textContent = active ? (state.order === "asc" ? " ▲" : " ▼") : "";
    }
  }
  for (const th of document.querySelectorAll("#steps-table th[data-sort]")) {
    th.append(el("span", {class: "arrow"}));
    th.addEventListener("click", () => {
      const column = th.dataset.sort;
      if (state.sort === column) state.order = state.order === "asc" ? "desc" : "asc";
      else Object.assign(state, {sort: column, order: column === "updated" ? "desc" : "asc"});
      state.offset = 0;
      refresh();
    });
  }

  // The statuses come with the page (data-statuses), so the first poll is the data itself.
  trunq.statuses = (trunq.page.dataset.statuses || "").split(",").filter(Boolean);
  for (const status of trunq.statuses) statusSelect.append(el("option", {value: status, text: status}));
  statusSelect.value = state.status;

  async function refresh() {
    keepInUrl();
    const family = state.family ? "?family=" + encodeURIComponent(state.family) : "";
    const [overview, page] = await Promise.all([getJSON("/api/overview" + family), getJSON("/api/steps?" + query())]);
    renderCounts(overview.status_counts, trunq.statuses);
    renderFamilies(overview.family_counts);
    renderRows(page);
    renderSortHeaders();
  }

  familyInput.value = state.family;
  searchInput.value = state.search;
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(state, {status: statusSelect.value, family: familyInput.value.trim(),
                          search: searchInput.value.trim(), offset: 0});
    refresh();
  });
  document.getElementById("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE); refresh();
  });
  document.getElementById("next").addEventListener("click", () => { state.offset += PAGE_SIZE; refresh(); });
  poll(refresh);
})();
