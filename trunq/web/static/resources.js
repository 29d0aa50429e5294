// Counted resources: units in use against the limit, and the steps that hold them.
"use strict";

(() => {
  const {el, clear, getJSON, poll, stepLink} = trunq;

  function holder(h) {
    const item = el("li", {"data-holder": h.holder});
    if (h.steps && h.steps.length) {
      h.steps.forEach((id, i) => item.append(i ? ", " : "", stepLink(id)));
      item.title = "holder " + h.holder;
    } else {
      item.append(h.is_step ? stepLink(h.holder) : el("span", {class: "mono", text: h.holder}));
    }
    item.append(` × ${h.units}`);
    return item;
  }

  async function refresh() {
    const data = await getJSON("/api/resources");
    const body = clear(document.getElementById("resources-body"));
    for (const resource of data.resources) {
      const percent = resource.limit ? Math.min(100, 100 * resource.in_use / resource.limit) : 0;
      body.append(el("tr", {"data-resource": resource.name},
        el("td", {class: "mono", text: resource.name}), el("td", {text: resource.in_use}),
        el("td", {text: resource.limit}),
        el("td", {}, el("div", {class: "progress"}, el("div", {style: {width: percent + "%"}}))),
        el("td", {}, el("ul", {class: "steplist"}, resource.holders.map(holder)))));
    }
    if (!data.resources.length) body.append(el("tr", {}, el("td", {colspan: 5, class: "note", text: "No resources in use or configured."})));
  }

  poll(refresh);
})();
