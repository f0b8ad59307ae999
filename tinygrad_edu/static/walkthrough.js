// The walkthrough page's behaviour (tinygrad_edu/walkthrough.py writes the page).
// `tgWalkthrough(root)` reads the steps from the page's JSON, finds the graph's parts in
// the SVG by their Graphviz titles (op12 is an op, t12 its output, leaf3 a leaf, c0 a
// constant; an edge is titled "t11->op12"), and shows one step at a time.
function tgWalkthrough(root) {
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var data = JSON.parse(root.querySelector(".tg-data").textContent);
  var steps = data.steps;
  var panel = root.querySelector(".tg-panel");
  var slider = root.querySelector(".tg-slider");
  var label = root.querySelector(".tg-step-label");
  var prev = root.querySelector(".tg-prev");
  var next = root.querySelector(".tg-next");
  var pane = root.querySelector(".tg-graph");

  var nodes = {};
  var edges = [];
  root.querySelectorAll(".tg-graph g.node").forEach(function (g) {
    var title = g.querySelector("title");
    if (title) nodes[title.textContent] = g;
  });
  root.querySelectorAll(".tg-graph g.edge").forEach(function (g) {
    var title = g.querySelector("title");
    if (!title) return;
    var ends = title.textContent.split("->");
    edges.push({ from: ends[0], to: ends[1], g: g });
  });

  // Gradient sizes (log10 of the norm) over the whole pass: blue for the smallest,
  // red for the largest, so vanishing and exploding gradients stand out.
  var levels = [];
  steps.forEach(function (step) {
    if (step.grad_out.level !== null) levels.push(step.grad_out.level);
    step.inputs.forEach(function (input) {
      if (input.grad && input.grad.level !== null) levels.push(input.grad.level);
    });
  });
  var lo = levels.length ? Math.min.apply(null, levels) : 0;
  var hi = levels.length ? Math.max.apply(null, levels) : 1;

  function color(grad) {
    if (!grad) return "#999999";
    if (grad.bad || grad.level === null) return grad.bad ? "#ff00ff" : "#3b6fd8";
    var t = hi > lo ? (grad.level - lo) / (hi - lo) : 0.5;
    return "hsl(" + Math.round(220 - 220 * t) + ", 80%, 42%)";
  }

  function paint(edge, className, stroke, opacity) {
    edge.g.classList.add(className);
    edge.g.querySelectorAll("path").forEach(function (p) {
      p.style.stroke = stroke;
      p.style.opacity = opacity;
    });
    edge.g.querySelectorAll("polygon").forEach(function (p) {
      p.style.stroke = stroke;
      p.style.fill = stroke;
      p.style.opacity = opacity;
    });
  }

  function edgesInto(op) {
    return edges.filter(function (e) { return e.to === op; });
  }

  function edgeFromTo(from, to) {
    return edges.filter(function (e) { return e.from === from && e.to === to; });
  }

  function reset() {
    Object.keys(nodes).forEach(function (name) {
      nodes[name].classList.remove("tg-current", "tg-visited", "tg-out-box", "tg-in-box");
    });
    edges.forEach(function (edge) {
      edge.g.classList.remove("tg-edge-in", "tg-edge-out", "tg-edge-done");
      edge.g.querySelectorAll("path, polygon").forEach(function (p) {
        p.style.stroke = "";
        p.style.fill = "";
        p.style.opacity = "";
      });
    });
  }

  // Paint the edges an op's gradients leave on (into the op, in data-flow direction).
  function paintInputs(step, className, opacity) {
    var op = step.node;
    var seen = {};
    step.inputs.forEach(function (input) {
      var found = input.box === "const"
        ? edgesInto(op).filter(function (e) { return /^c\d+$/.test(e.from); })
        : edgeFromTo(input.box, op);
      found.forEach(function (edge, k) {
        var key = edge.from + "#" + k;
        if (seen[key]) return;  // x * x: two inputs, one box, one edge each
        seen[key] = true;
        paint(edge, className, color(input.grad), opacity);
      });
    });
  }

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function gradient(grad, field, extra) {
    var attrs = ' data-field="' + field + '"' + (extra || "");
    if (!grad) return '<div class="tg-grad tg-muted"' + attrs + ">no gradient</div>";
    var html = '<div class="tg-grad"' + attrs + ' style="border-color:' + color(grad) + '">';
    if (grad.values !== undefined && grad.values !== null) {
      html += '<div class="tg-values" data-role="values">' + esc(grad.values) + "</div>";
    }
    html += '<div data-role="stats"' + (grad.bad ? ' class="tg-bad"' : "") + ">";
    html += "norm <span data-stat=\"norm\">" + esc(grad.norm) + "</span>, ";
    html += "min <span data-stat=\"min\">" + esc(grad.min) + "</span>, ";
    html += "max <span data-stat=\"max\">" + esc(grad.max) + "</span>";
    html += (grad.bad ? " (NaN or inf!)" : "") + "</div></div>";
    return html;
  }

  function describe(step, last) {
    var html = '<h3 data-field="title">Step ' + step.number + " of " + steps.length + ": " +
      '<span data-field="op">' + esc(step.op) + "</span></h3>";
    html += '<div class="tg-rule" data-field="rule">' + esc(step.rule) + "</div>";
    if (step.params) html += '<div class="tg-muted" data-field="params">' + esc(step.params) + "</div>";
    html += "<h4>Gradient arriving: dL/d(out), out " + esc(step.out_shape) + "</h4>";
    html += gradient(step.grad_out, "grad-out");
    html += "<h4>Gradients leaving, one per input</h4>";
    step.inputs.forEach(function (input, k) {
      html += "<div><b>" + esc(input.name) + "</b> = " + esc(input.of) + ", " + esc(input.shape) +
        (input.why ? ' <span class="tg-muted">(' + esc(input.why) + ")</span>" : "") + "</div>";
      if (input.grad) html += gradient(input.grad, "grad-in", ' data-input="' + k + '"');
    });
    html += "<h4>Leaves receiving a gradient</h4>";
    if (!step.leaves.length) html += '<div class="tg-muted" data-field="leaves">none at this step</div>';
    else {
      html += '<div data-field="leaves">';
      step.leaves.forEach(function (leaf) {
        html += '<div data-leaf="' + esc(leaf.name) + '"><b>' + esc(leaf.name) + "</b>" +
          (leaf.so_far ? ': gradient so far<div class="tg-values">' + esc(leaf.so_far) + "</div>" : "") +
          "</div>";
      });
      html += "</div>";
    }
    if (last) {
      html += "<h4>Backward is done: every leaf's .grad</h4><div data-field=\"final\">";
      data.final.forEach(function (leaf) {
        html += '<div class="tg-final" data-leaf="' + esc(leaf.name) + '"><b>' + esc(leaf.name) +
          "</b> " + esc(leaf.shape) + gradient(leaf.grad, "final-grad") + "</div>";
      });
      html += "</div>";
    }
    return html;
  }

  function centre(element) {
    // Scroll only the graph's own pane (scrollIntoView would scroll a whole notebook).
    var box = element.getBoundingClientRect();
    var view = pane.getBoundingClientRect();
    pane.scrollTop += box.top + box.height / 2 - (view.top + view.height / 2);
    pane.scrollLeft += box.left + box.width / 2 - (view.left + view.width / 2);
  }

  var current = 1;
  function show(k) {
    current = Math.max(1, Math.min(steps.length, k));
    reset();
    for (var i = 0; i < current - 1; i++) {
      var done = steps[i];
      if (nodes[done.node]) nodes[done.node].classList.add("tg-visited");
      paintInputs(done, "tg-edge-done", "0.45");
    }
    var step = steps[current - 1];
    var op = nodes[step.node];
    if (op) op.classList.add("tg-current");
    if (nodes[step.out]) nodes[step.out].classList.add("tg-out-box");
    edgeFromTo(step.node, step.out).forEach(function (edge) {
      paint(edge, "tg-edge-in", color(step.grad_out), "1");
    });
    step.inputs.forEach(function (input) {
      if (nodes[input.box]) nodes[input.box].classList.add("tg-in-box");
    });
    paintInputs(step, "tg-edge-out", "1");
    panel.innerHTML = describe(step, current === steps.length) +
      (op ? "" : '<p class="tg-muted">(this op is not drawn: it is in a folded repeat, or beyond ' +
        'the ops nearest the output that a large graph draws)</p>');
    root.setAttribute("data-step", String(current));
    slider.value = String(current);
    label.textContent = "Step " + current + " / " + steps.length;
    prev.disabled = current === 1;
    next.disabled = current === steps.length;
    if (op) centre(op);
  }

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  function onKey(event) {
    if (event.target === slider) return;  // the slider moves itself, then says "input"
    if (event.key === "ArrowRight" || event.key === "ArrowDown") show(current + 1);
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") show(current - 1);
    else if (event.key === "Home") show(1);
    else if (event.key === "End") show(steps.length);
    else return;
    event.preventDefault();
  }
  root.addEventListener("keydown", onKey);
  if (root.id === "tg-walkthrough") {
    // A page of its own (Walkthrough.save): the arrow keys work without a click first.
    document.addEventListener("keydown", function (event) {
      if (!root.contains(event.target)) onKey(event);
    });
  }
  show(1);
}
