/* gage game boards: draws a position (grid games and chess) as SVG and replays a game step by step.
   Shared by the live board page and report.html (inlined there, so it works offline). */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PIECES = {K: "\u2654", Q: "\u2655", R: "\u2656", B: "\u2657", N: "\u2658", P: "\u2659",
                k: "\u265a", q: "\u265b", r: "\u265c", b: "\u265d", n: "\u265e", p: "\u265f"};
  var THEMES = {gomoku: {bg: "#e3c16f", line: "#6b4f1d"}, connect_four: {bg: "#1f4fb4", line: "#1f4fb4"},
                tictactoe: {bg: "#ffffff", line: "#333"}};

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function cellMove(view, r, c) {
    return view.click === "column" ? String(c + 1) : view.col_labels[c] + view.row_labels[r];
  }

  function drawGrid(box, view, opts) {
    var rows = view.rows, cols = view.cols, theme = THEMES[view.game] || THEMES.tictactoe;
    var size = Math.max(22, Math.min(64, Math.floor(540 / Math.max(rows, cols))));
    var pad = 26, w = cols * size + pad * 2, h = rows * size + pad * 2;
    var svg = el("svg", {viewBox: "0 0 " + w + " " + h, width: w, height: h, "class": "gage-board grid-" + view.game,
                         "data-game": view.game});
    el("rect", {x: 0, y: 0, width: w, height: h, fill: "#f4f1ea"}, svg);
    el("rect", {x: pad, y: pad, width: cols * size, height: rows * size, fill: theme.bg, rx: 4}, svg);
    var cx = function (c) { return pad + c * size + size / 2; };
    var cy = function (r) { return pad + r * size + size / 2; };
    if (view.game === "gomoku") {
      for (var i = 0; i < rows; i++) el("line", {x1: cx(0), y1: cy(i), x2: cx(cols - 1), y2: cy(i), stroke: theme.line, "stroke-width": 1}, svg);
      for (var j = 0; j < cols; j++) el("line", {x1: cx(j), y1: cy(0), x2: cx(j), y2: cy(rows - 1), stroke: theme.line, "stroke-width": 1}, svg);
    } else if (view.game !== "connect_four") {
      for (var a = 1; a < rows; a++) el("line", {x1: pad, y1: pad + a * size, x2: pad + cols * size, y2: pad + a * size, stroke: theme.line, "stroke-width": 2}, svg);
      for (var b = 1; b < cols; b++) el("line", {x1: pad + b * size, y1: pad, x2: pad + b * size, y2: pad + rows * size, stroke: theme.line, "stroke-width": 2}, svg);
    }
    for (var c0 = 0; c0 < cols; c0++) {
      var t = el("text", {x: cx(c0), y: h - 8, "text-anchor": "middle", "font-size": 12, fill: "#555"}, svg);
      t.textContent = view.click === "column" ? String(c0 + 1) : view.col_labels[c0];
    }
    for (var r0 = 0; r0 < rows; r0++) {
      if (view.click === "column") break;
      var s = el("text", {x: 12, y: cy(r0) + 4, "text-anchor": "middle", "font-size": 12, fill: "#555"}, svg);
      s.textContent = view.row_labels[r0];
    }
    var onLine = {};
    (view.line || []).forEach(function (p) { onLine[p[0] + "," + p[1]] = true; });
    for (var r = 0; r < rows; r++) {
      for (var c = 0; c < cols; c++) {
        var mark = view.cells[r].charAt(c), x = cx(c), y = cy(r), rad = size * 0.42;
        if (view.game === "connect_four") {
          el("circle", {cx: x, cy: y, r: rad, fill: mark === "x" ? "#d62828" : mark === "o" ? "#f7c948" : "#fff"}, svg);
        } else if (view.game === "gomoku") {
          if (mark !== ".") el("circle", {cx: x, cy: y, r: rad, fill: mark === "x" ? "#111" : "#fafafa", stroke: "#222", "stroke-width": 1, "class": "stone"}, svg);
        } else if (mark !== ".") {
          var m = el("text", {x: x, y: y + size * 0.22, "text-anchor": "middle", "font-size": size * 0.62, "font-weight": 700,
                              fill: mark === "x" ? "#1d4ed8" : "#c2410c", "class": "stone"}, svg);
          m.textContent = mark.toUpperCase();
        }
        if (onLine[r + "," + c]) el("circle", {cx: x, cy: y, r: rad + 2, fill: "none", stroke: "#16a34a", "stroke-width": 3}, svg);
        if (view.last && view.last[0] === r && view.last[1] === c) el("circle", {cx: x, cy: y, r: Math.max(3, size * 0.1), fill: "#ef4444", "class": "last"}, svg);
        var hit = el("rect", {x: pad + c * size, y: pad + r * size, width: size, height: size, fill: "transparent",
                              "class": "cell", "data-r": r, "data-c": c, "data-move": cellMove(view, r, c)}, svg);
        if (opts && opts.onMove) hit.addEventListener("click", (function (mv) { return function () { opts.onMove(mv); }; })(cellMove(view, r, c)));
      }
    }
    box.appendChild(svg);
  }

  function drawChess(box, view, opts) {
    var size = 56, pad = 22, w = 8 * size + pad * 2;
    var svg = el("svg", {viewBox: "0 0 " + w + " " + w, width: w, height: w, "class": "gage-board chess", "data-game": "chess"});
    var rows = view.fen.split(" ")[0].split("/"), files = "abcdefgh";
    var selected = opts && opts.selected;
    for (var r = 0; r < 8; r++) {
      var c = 0;
      var row = rows[r];
      var cells = [];
      for (var k = 0; k < row.length; k++) {
        var ch = row.charAt(k);
        if (/[1-8]/.test(ch)) { for (var e = 0; e < +ch; e++) cells.push(""); } else cells.push(ch);
      }
      for (c = 0; c < 8; c++) {
        var sq = files.charAt(c) + (8 - r), x = pad + c * size, y = pad + r * size;
        var lastHit = view.last && (view.last.slice(0, 2) === sq || view.last.slice(2, 4) === sq);
        el("rect", {x: x, y: y, width: size, height: size, fill: sq === selected ? "#facc15" : lastHit ? "#cdd26a" : (r + c) % 2 ? "#b58863" : "#f0d9b5"}, svg);
        if (cells[c]) {
          var t = el("text", {x: x + size / 2, y: y + size * 0.78, "text-anchor": "middle", "font-size": size * 0.8, "class": "piece"}, svg);
          t.textContent = PIECES[cells[c]];
        }
        var hit = el("rect", {x: x, y: y, width: size, height: size, fill: "transparent", "class": "cell", "data-square": sq, "data-move": sq}, svg);
        if (opts && opts.onSquare) hit.addEventListener("click", (function (s2) { return function () { opts.onSquare(s2); }; })(sq));
      }
    }
    for (var f = 0; f < 8; f++) {
      var lbl = el("text", {x: pad + f * size + size / 2, y: w - 6, "text-anchor": "middle", "font-size": 12, fill: "#555"}, svg);
      lbl.textContent = files.charAt(f);
      var num = el("text", {x: 10, y: pad + f * size + size / 2 + 4, "text-anchor": "middle", "font-size": 12, fill: "#555"}, svg);
      num.textContent = String(8 - f);
    }
    box.appendChild(svg);
  }

  function draw(box, view, opts) {
    box.textContent = "";
    if (!view || !view.kind) return;
    (view.kind === "chess" ? drawChess : drawGrid)(box, view, opts || {});
  }

  /* Positions of a replay: views[0] the start, views[i] after move i. */
  function views(payload) {
    var out = [payload.start], cur = payload.start;
    payload.steps.forEach(function (step, i) {
      var next;
      if (cur.kind === "grid") {
        var cells = cur.cells.slice();
        var row = cells[step.place[0]];
        cells[step.place[0]] = row.slice(0, step.place[1]) + step.mark + row.slice(step.place[1] + 1);
        next = Object.assign({}, cur, {cells: cells, last: step.place, line: []});
      } else {
        next = Object.assign({}, cur, {fen: step.fen, last: step.last});
      }
      if (i === payload.steps.length - 1 && payload.final) next.line = payload.final.line || [];
      out.push(next);
      cur = next;
    });
    return out;
  }

  function text(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  /* A replay widget: board, step controls (first, back, forward, last, slider) and a caption. */
  function replay(box, payload) {
    box.textContent = "";
    var all = views(payload), index = all.length - 1;
    var bar = text("div", "replay-controls");
    var buttons = {};
    [["first", "\u00ab"], ["prev", "\u2039"], ["next", "\u203a"], ["last", "\u00bb"]].forEach(function (b) {
      var btn = text("button", "replay-" + b[0], b[1]);
      btn.type = "button";
      btn.setAttribute("data-go", b[0]);
      buttons[b[0]] = btn;
      bar.appendChild(btn);
    });
    var slider = document.createElement("input");
    slider.type = "range"; slider.min = 0; slider.max = all.length - 1; slider.className = "replay-slider";
    bar.appendChild(slider);
    var label = text("span", "replay-step");
    bar.appendChild(label);
    var board = text("div", "replay-board"), caption = text("div", "replay-caption");
    box.appendChild(bar); box.appendChild(board); box.appendChild(caption);
    function go(i) {
      index = Math.max(0, Math.min(all.length - 1, i));
      slider.value = index;
      draw(board, all[index]);
      label.textContent = "move " + index + " / " + (all.length - 1);
      var step = payload.steps[index - 1];
      caption.textContent = step ? (step.player + " played " + (step.san || step.move) +
        (step.source === "fallback" ? " (fallback: random legal move)" : "") +
        (step.rejected && step.rejected.length ? " after " + step.rejected.length + " refused answer(s)" : ""))
        : (index === 0 ? "start position" : "");
      if (index === all.length - 1 && payload.reason) caption.textContent += " \u2014 " + (payload.winner ? payload.winner + " wins: " : "draw: ") + payload.reason;
      box.setAttribute("data-index", index);
    }
    buttons.first.onclick = function () { go(0); };
    buttons.prev.onclick = function () { go(index - 1); };
    buttons.next.onclick = function () { go(index + 1); };
    buttons.last.onclick = function () { go(all.length - 1); };
    slider.oninput = function () { go(+slider.value); };
    go(index);
    return {go: go, count: all.length, get index() { return index; }};
  }

  window.GageBoard = {draw: draw, views: views, replay: replay, cellMove: cellMove};
})();
