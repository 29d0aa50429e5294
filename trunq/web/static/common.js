// Shared helpers of every page. User data only ever reaches the DOM as text nodes or
// attribute values (never innerHTML), so a "<script>" in a parameter shows as text.
"use strict";

const trunq = (() => {
  const page = document.getElementById("page");
  const pollMs = Number(page.dataset.pollMs) || 2000;
  const actionsOn = page.dataset.actions === "on";
  const TOKEN_KEY = "trunq-web-token";
  const SVG_NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    return fill(node, attrs, children);
  }

  function svg(tag, attrs, ...children) {
    return fill(document.createElementNS(SVG_NS, tag), attrs, children);
  }

  function fill(node, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "style") Object.assign(node.style, value);  // CSSOM: allowed by the CSP
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  async function getJSON(url) {
    const response = await fetch(url, {headers: {"Accept": "application/json"}});
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.error || response.statusText);
      error.hint = body.hint || "";
      throw error;
    }
    return body;
  }

  // A banner that says what is missing (e.g. Redis for the cluster views) instead of a bare failure.
  function notice(error) {
    const banner = document.getElementById("notice");
    if (!banner) return;
    banner.hidden = !error || !error.hint;
    banner.textContent = banner.hidden ? "" : error.message + " — " + error.hint;
  }

  async function action(url, payload, method) {
    const response = await fetch(url, {
      method: method || "POST",
      headers: {"Content-Type": "application/json", "X-Trunq-Token": token()},
      body: method === "GET" ? undefined : JSON.stringify(payload || {}),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  function setupTokenForm() {
    const form = document.getElementById("token-form");
    if (!form) return;
    const state = document.getElementById("token-state");
    const show = () => { state.textContent = token() ? "set" : "not set"; };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = document.getElementById("token-input");
      sessionStorage.setItem(TOKEN_KEY, input.value);
      input.value = "";
      show();
    });
    show();
  }

  // Call fn now and every pollMs; a failing poll marks the live indicator instead of stopping.
  function poll(fn) {
    const indicator = document.getElementById("live-indicator");
    let running = false;
    const tick = async () => {
      if (running || document.hidden) return;
      running = true;
      try {
        await fn();
        notice(null);
        indicator.classList.remove("stale");
        indicator.title = "updated " + new Date().toLocaleTimeString();
        // navigation start -> first data rendered, on the browser's clock (the web bench reads it)
        if (window.trunqFirstDataMs === undefined) window.trunqFirstDataMs = performance.now();
      } catch (error) {
        indicator.classList.add("stale");
        indicator.title = "update failed: " + error.message;
        notice(error);
      } finally {
        running = false;
      }
    };
    tick();
    return setInterval(tick, pollMs);
  }

  function badge(status) {
    return el("span", {class: "badge s-" + String(status).toLowerCase(), text: status});
  }

  function stepLink(stepId) {
    return el("a", {href: "/step?id=" + encodeURIComponent(stepId), class: "steplink", text: stepId});
  }

  function progressBar(progress) {
    if (progress === null || progress === undefined) return "";
    const percent = Math.max(0, Math.min(100, Number(progress)));
    return el("div", {class: "progress", title: percent + "%"},
      el("div", {style: {width: percent + "%"}}));
  }

  function time(seconds) {
    if (!seconds) return "";
    return new Date(seconds * 1000).toLocaleString();
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 60) return seconds.toFixed(seconds < 10 ? 2 : 1) + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s";
    return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
  }

  function ago(seconds, now) {
    if (!seconds) return "";
    return duration(Math.max(0, (now || Date.now() / 1000) - seconds)) + " ago";
  }

  const STATUS_COLORS = {
    PENDING: "#f0ad4e", RUNNING: "#2f7bd8", BATCH_RUNNING: "#6a5acd", DONE: "#3c9a5f",
    FAILED: "#d9534f", UPSTREAM_FAILED: "#e8908c", DISABLED: "#777", UNKNOWN: "#bbb",
  };

  function legend(node) {
    clear(node);
    for (const [status, color] of Object.entries(STATUS_COLORS)) {
      node.append(el("span", {class: "legend-item"},
        el("span", {class: "swatch", style: {background: color}}), status));
    }
  }

  setupTokenForm();
  return {el, svg, clear, getJSON, action, poll, badge, stepLink, progressBar, time, duration, ago,
          legend, page, pollMs, actionsOn, STATUS_COLORS};
})();
