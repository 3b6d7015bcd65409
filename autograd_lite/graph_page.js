// The graph page's behaviour (graph_page.py inlines this file): pan and zoom, module boxes
// that collapse and expand, tooltips on values, and the step-through of the backward pass.
// Everything it needs is in the page: the SVG Graphviz drew and the JSON in #graph-data.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const svg = document.querySelector("#graph svg");
  const pane = document.getElementById("graph");
  const graph = svg.querySelector("g.graph");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const byId = (id) => document.getElementById(id);
  const escape = (text) => String(text).replace(/[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  // --- pan (drag) and zoom (wheel, buttons): the svg's viewBox ------------------------
  const box = svg.viewBox.baseVal;
  const home = { x: box.x, y: box.y, w: box.width, h: box.height };
  let view = { ...home };
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  function setView(next) {
    view = next;
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  }
  function unitsPerPixel() {
    const rect = svg.getBoundingClientRect();
    return Math.max(view.w / rect.width, view.h / rect.height);
  }
  function toGraph(clientX, clientY) {
    const point = new DOMPoint(clientX, clientY).matrixTransform(svg.getScreenCTM().inverse());
    return { x: point.x, y: point.y };
  }
  function zoom(factor, centre) {
    const c = centre || { x: view.x + view.w / 2, y: view.y + view.h / 2 };
    setView({ x: c.x - (c.x - view.x) * factor, y: c.y - (c.y - view.y) * factor,
              w: view.w * factor, h: view.h * factor });
  }
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1 / 1.15 : 1.15, toGraph(event.clientX, event.clientY));
  }, { passive: false });
  let drag = null;
  let dragged = false;
  svg.addEventListener("mousedown", (event) => {
    drag = { x: event.clientX, y: event.clientY, view: { ...view }, scale: unitsPerPixel() };
    dragged = false;
  });
  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { dragged = true; pane.classList.add("dragging"); }
    if (dragged) setView({ ...drag.view, x: drag.view.x - dx * drag.scale, y: drag.view.y - dy * drag.scale });
  });
  window.addEventListener("mouseup", () => { drag = null; pane.classList.remove("dragging"); });
  byId("zoom-in").addEventListener("click", () => zoom(1 / 1.25));
  byId("zoom-out").addEventListener("click", () => zoom(1.25));
  byId("fit").addEventListener("click", () => setView({ ...home }));

  // --- module boxes: collapse and expand ----------------------------------------------
  const collapsed = new Set();
  const overlays = {};
  const edges = [...svg.querySelectorAll("g.edge")].filter((e) => e.id.startsWith("e:"))
    .map((e) => { const [, tail, head] = e.id.split(":"); return { element: e, tail, head }; });

  function overlay(id) {  // the collapsed box, drawn over the module's area
    const module = data.modules[id];
    const outline = byId(id).querySelector("path, polygon").getBBox();
    const group = document.createElementNS(SVG_NS, "g");
    group.setAttribute("class", "module-box hidden");
    group.dataset.module = id;
    const rect = document.createElementNS(SVG_NS, "rect");
    for (const [key, value] of Object.entries({ x: outline.x, y: outline.y, width: outline.width,
                                                height: outline.height, rx: 6 })) {
      rect.setAttribute(key, value);
    }
    group.appendChild(rect);
    const longest = Math.max(...module.rows.map((row) => row.length));
    const size = Math.max(4, Math.min(11, (outline.width - 12) / (0.58 * longest)));
    const fits = Math.max(1, Math.floor((outline.height - 8) / (size * 1.35)));
    module.rows.slice(0, fits).forEach((row, i) => {
      const text = document.createElementNS(SVG_NS, "text");
      text.setAttribute("x", outline.x + 6);
      text.setAttribute("y", outline.y + 6 + size * (1.1 + 1.35 * i));
      text.setAttribute("font-size", size);
      if (i === 0) text.setAttribute("class", "title");
      text.textContent = row;
      group.appendChild(text);
    });
    const title = document.createElementNS(SVG_NS, "title");
    title.textContent = module.rows.join("\n") + "\n(click to expand)";
    group.appendChild(title);
    group.addEventListener("click", (event) => {
      event.stopPropagation();
      if (!dragged) toggle(id);
    });
    graph.appendChild(group);
    return group;
  }

  function owner(node) {  // the outermost collapsed module holding a node, or null
    let found = null;
    for (const id of collapsed) {
      if (data.modules[id].nodes.includes(node) &&
          (found === null || data.modules[found].level > data.modules[id].level)) found = id;
    }
    return found;
  }

  function refreshModules() {
    const hiddenClusters = new Set();
    for (const id of collapsed) data.modules[id].clusters.forEach((c) => hiddenClusters.add(c));
    for (const id of Object.keys(data.modules)) {
      byId(id).classList.toggle("hidden", hiddenClusters.has(id));
      overlays[id].classList.toggle("hidden", !collapsed.has(id) || hiddenClusters.has(id));
    }
    for (const node of svg.querySelectorAll("g.node")) {
      node.classList.toggle("hidden", owner(node.id) !== null);
    }
    for (const edge of edges) {
      const inside = owner(edge.tail);
      edge.element.classList.toggle("hidden", inside !== null && inside === owner(edge.head));
    }
  }

  function toggle(id) {
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    refreshModules();
    render();
  }

  for (const [id, module] of Object.entries(data.modules)) {
    overlays[id] = overlay(id);
    if (module.collapsed) collapsed.add(id);
    byId(id).addEventListener("click", (event) => {
      if (event.target.closest("g.node, g.edge")) return;
      event.stopPropagation();
      if (!dragged) toggle(id);
    });
  }

  // --- tooltips on values ----------------------------------------------------------------
  const tooltip = byId("tooltip");
  function describe(info) {
    const lines = [`${info.name ? info.name + " — " : ""}${info.kind}`,
                   `shape (${info.shape.join(", ")}${info.shape.length === 1 ? "," : ""}) ${info.dtype}`];
    for (const part of ["data", "grad"]) {
      const s = info[part];
      if (!s) continue;
      lines.push("", `${part}: ${s.text}`);
      if (s.stats !== undefined) lines.push(`  ${s.stats}`);
      if (s.full !== undefined) lines.push(s.full);
    }
    return lines.join("\n");
  }
  svg.addEventListener("mousemove", (event) => {
    const node = event.target.closest("g.node");
    const info = node && data.values[node.id];
    if (!info || drag) { tooltip.hidden = true; return; }
    tooltip.textContent = describe(info);
    tooltip.hidden = false;
    const x = Math.min(event.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
    const y = Math.min(event.clientY + 14, window.innerHeight - tooltip.offsetHeight - 8);
    tooltip.style.left = `${Math.max(4, x)}px`;
    tooltip.style.top = `${Math.max(4, y)}px`;
  });
  svg.addEventListener("mouseleave", () => { tooltip.hidden = true; });

  // --- the backward pass, one op at a time ------------------------------------------------
  const steps = data.steps;
  let current = 0;  // how many steps have run
  const gradCells = {};  // value node -> its "grad ..." text element
  for (const id of Object.keys(data.gradTexts)) {
    const node = byId(id);
    const texts = node ? [...node.querySelectorAll("text")].filter((t) => t.textContent.startsWith("grad ")) : [];
    if (texts.length) gradCells[id] = texts[texts.length - 1];
  }

  function textAt(id, step) {
    let text = null;
    for (const [when, value] of data.gradTexts[id]) if (when <= step) text = value;
    return text;
  }

  function shown(id) {  // the element standing for a node: itself, or its collapsed module's box
    const module = owner(id);
    return module ? overlays[module] : byId(id);
  }

  function mark(id, name) {
    const element = id && shown(id);
    if (element) element.classList.add(name);
  }

  function explain(step) {
    if (!steps.length) {
      return "<h2>No backward steps</h2><p>" + escape(data.notes.join(" ") ||
        "This graph has no op that needs a gradient.") + "</p>";
    }
    if (step === 0) {
      return "<h2>Backward starts at the output</h2><p>Its gradient is 1. Press <b>Step</b> or " +
        "<b>→</b> to run the ops in the order backward runs them (the newest value whose " +
        "gradient is complete goes next); <b>←</b> goes back, <b>Home</b> resets, <b>End</b> " +
        "runs all. Hover a value for its numbers; click a module's box to collapse it.</p>";
    }
    const s = steps[step - 1];
    const sent = s.sent.map((e) => `<li><span class="rule">${escape(e.rule)}</span>` +
      (e.parts > 1 ? `<br><span class="adds">used ${e.parts} times so far: its gradient adds up, ` +
        `${escape(e.total)}</span>` : "") + "</li>").join("");
    const done = step === steps.length ? "<p><b>Backward is done:</b> every value has its gradient.</p>" : "";
    return `<h2>Step ${step} of ${steps.length}: op ${escape(s.opName)}</h2>` +
      `<p>The gradient of its output is complete: <span class="rule">${escape(s.grad)}</span>. ` +
      `The op sends each input its share:</p><ul>${sent || "<li>(no input needs a gradient)</li>"}</ul>${done}`;
  }

  function render() {
    for (const name of ["current-op", "grad-arrived", "grad-sent", "accumulated", "edge-sent"]) {
      for (const element of [...document.getElementsByClassName(name)]) element.classList.remove(name);
    }
    for (const [id, cell] of Object.entries(gradCells)) {
      const text = textAt(id, current);
      cell.textContent = text === null ? "grad ·" : text;
      cell.classList.toggle("pending", text === null);
      cell.classList.toggle("fresh", false);
    }
    const s = current > 0 ? steps[current - 1] : null;
    if (s) {
      mark(s.op, "current-op");
      mark(s.out, "grad-arrived");
      for (const e of s.sent) {
        mark(e.to, e.parts > 1 ? "accumulated" : "grad-sent");
        if (!owner(e.to)) {
          for (const edge of edges) {
            if (edge.tail === e.to && edge.head === s.op) edge.element.classList.add("edge-sent");
          }
        }
        if (gradCells[e.to]) gradCells[e.to].classList.add("fresh");
      }
    }
    byId("explain").innerHTML = explain(current);
    byId("counter").textContent = steps.length ? `step ${current} / ${steps.length}` : "";
    document.body.dataset.step = String(current);
    document.body.dataset.op = s ? s.op : "";
  }

  function go(step) {
    current = Math.max(0, Math.min(steps.length, step));
    render();
  }
  byId("step").addEventListener("click", () => go(current + 1));
  byId("back").addEventListener("click", () => go(current - 1));
  byId("reset").addEventListener("click", () => go(0));
  byId("end").addEventListener("click", () => go(steps.length));
  document.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: steps.length };
    if (event.key in moves) {
      event.preventDefault();
      go(moves[event.key]);
    }
  });

  byId("notes").textContent = data.notes.join(" ");
  refreshModules();
  render();
  window.graphPage = { go, steps: () => steps.map((s) => s.op), step: () => current };
})();
