/* gage-eval report: sample browser and charts. Runs from disk (static) or under `gage view` (server).
   Sample text is untrusted model output: it is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";
  const page = JSON.parse(document.getElementById("gage-page").textContent);
  const F = {};
  page.fields.forEach(function (name, i) { F[name] = i; });
  const PAGE_SIZE = 50;
  const state = { rows: [], order: [], view: [], page: 0, task: "", outcome: "all", q: "", epoch: 0,
                  selected: -1, complete: !page.live, lower: null };
  const chunkCache = {};
  const $ = function (id) { return document.getElementById(id); };
  const domReady = new Promise(function (resolve) {
    if (document.readyState !== "loading") resolve(); else document.addEventListener("DOMContentLoaded", resolve);
  });

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function decodeBlob(text) {
    let stream;
    try {
      stream = (await fetch("data:application/octet-stream;base64," + text)).body;
    } catch (e) {  // some browsers refuse fetch() of data: URLs on file:// pages
      const bin = atob(text);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      stream = new Blob([bytes]).stream();
    }
    return JSON.parse(await new Response(stream.pipeThrough(new DecompressionStream("gzip"))).text());
  }

  function outcome(r) {
    if (!r[F.ok]) return "error";
    if (r[F.score] === null || r[F.score] === undefined) return "unscored";
    return r[F.score] >= 0.5 ? "correct" : "incorrect";
  }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits === undefined ? 3 : digits);
    return String(v);
  }

  function taskRank() {
    const rank = new Map();
    page.tasks.forEach(function (t) { if (!rank.has(t)) rank.set(t, rank.size); });
    state.rows.forEach(function (r) { if (!rank.has(r[F.task])) rank.set(r[F.task], rank.size); });
    return rank;
  }

  function setRows(rows) {
    state.rows = rows;
    const rank = taskRank();
    // Stable order by (task, seq) whatever order concurrent workers finished in.
    state.order = rows.map(function (_, i) { return i; });
    state.order.sort(function (a, b) {
      const ra = rows[a], rb = rows[b];
      const d = rank.get(ra[F.task]) - rank.get(rb[F.task]);
      if (d) return d;
      const sa = ra[F.seq] === null ? Infinity : ra[F.seq], sb = rb[F.seq] === null ? Infinity : rb[F.seq];
      return sa === sb ? a - b : sa - sb;
    });
    state.lower = null;
    const select = $("f-task");
    const have = new Set(Array.from(select.options).map(function (o) { return o.value; }));
    rank.forEach(function (_, t) {
      if (!have.has(t)) { const o = el("option", null, t); o.value = t; select.appendChild(o); }
    });
    applyFilter(false);
  }

  function haystack(i) {
    if (!state.lower) state.lower = new Array(state.rows.length);
    let s = state.lower[i];
    if (s === undefined) {
      const r = state.rows[i];
      s = state.lower[i] = (r[F.id] + "\n" + r[F.prompt] + "\n" + r[F.answer]).toLowerCase();
    }
    return s;
  }

  function applyFilter(resetPage) {
    const counts = { all: 0, correct: 0, incorrect: 0, error: 0 };
    const view = [];
    const q = state.q.toLowerCase();
    for (const i of state.order) {
      const r = state.rows[i];
      if (state.task && r[F.task] !== state.task) continue;
      if (q && haystack(i).indexOf(q) < 0) continue;
      const o = outcome(r);
      counts.all++;
      if (o in counts) counts[o]++;
      if (state.outcome === "all" || o === state.outcome) view.push(i);
    }
    state.view = view;
    if (resetPage) state.page = 0;
    state.page = Math.min(state.page, Math.max(0, Math.ceil(view.length / PAGE_SIZE) - 1));
    document.querySelectorAll("#f-outcome button").forEach(function (b) {
      b.querySelector("b").textContent = String(counts[b.dataset.outcome]);
    });
    render();
  }

  function render() {
    const tbody = document.querySelector("#sample-table tbody");
    const frag = document.createDocumentFragment();
    const start = state.page * PAGE_SIZE;
    state.view.slice(start, start + PAGE_SIZE).forEach(function (i) {
      const r = state.rows[i];
      const o = outcome(r);
      const tr = el("tr", "o-" + o + (i === state.selected ? " selected" : ""));
      tr.dataset.row = String(i);
      tr.appendChild(el("td", "num", i + 1));
      tr.appendChild(el("td", null, r[F.task]));
      tr.appendChild(el("td", "mono", r[F.id]));
      const td = el("td"); td.appendChild(el("span", "badge o-" + o, o));
      if (o === "error") td.title = r[F.reason];
      tr.appendChild(td);
      tr.appendChild(el("td", "num", fmt(r[F.score])));
      tr.appendChild(el("td", "num", fmt(r[F.latency_ms], 1)));
      [r[F.prompt], o === "error" && !r[F.answer] ? r[F.reason] : r[F.answer]].forEach(function (text) { const c = el("td", null, text); c.title = text; tr.appendChild(c); });
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    if (!state.view.length) {
      const tr = el("tr"); const td = el("td", "empty", state.rows.length ? "no sample matches the filter" : "no samples recorded yet");
      td.colSpan = 8; tr.appendChild(td); tbody.appendChild(tr);
    }
    const pages = Math.max(1, Math.ceil(state.view.length / PAGE_SIZE));
    $("page-label").textContent = "page " + (state.page + 1) + " of " + pages;
    $("sample-count").textContent = state.view.length + " of " + state.rows.length + " samples";
    document.body.dataset.samplesReady = "1";
  }

  async function getRecord(i) {
    if (page.mode === "server") {
      const resp = await fetch(page.api + "/samples/" + i + "?epoch=" + state.epoch);
      const body = await resp.json();
      return resp.ok ? body : { __missing: body.detail || "sample not available" };
    }
    const k = Math.floor(i / page.chunkSize);
    if (k >= page.chunks) return { __missing: "details of this sample are not embedded (report size cap); `gage view` shows them" };
    await domReady;
    if (!chunkCache[k]) chunkCache[k] = decodeBlob($("gage-chunk-" + k).textContent);
    return (await chunkCache[k])[i - k * page.chunkSize];
  }

  function section(parent, title, body) {
    const box = el("div", "section");
    box.appendChild(el("h4", null, title));
    box.appendChild(body);
    parent.appendChild(box);
  }

  function pre(value) {
    return el("pre", null, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  }

  function contentText(content) {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return JSON.stringify(content);
    return content.map(function (p) {
      if (p && p.type === "text") return p.text;
      const url = p && (p.image_url || p.audio_url || p.file_url);
      return "[" + (p && p.type) + (url ? ": " + (url.url || url) : "") + "]";
    }).join("\n");
  }

  // Media parts (images, audio) of a sample: thumbnails that open full size, audio players. The source is the
  // run's media store (media/… beside report.html), the original file (file://) or a remote URL; in `gage view`
  // the server streams the file the record references. Inline data is kept only as a hash in samples.jsonl.
  const MEDIA = { image_url: "image", audio_url: "audio", video_url: "video", file_url: "file" };

  function mediaParts(sample) {
    const out = [];
    (sample.messages || []).forEach(function (m) {
      if (Array.isArray(m.content)) m.content.forEach(function (p) { if (p && MEDIA[p.type]) out.push(p); });
    });
    return out;
  }

  function mediaSrc(part, row, k) {
    const m = part.media || {};
    if (page.mode === "server") return page.api + "/samples/" + row + "/media/" + k + "?epoch=" + state.epoch;
    if (typeof m.file === "string" && /^media\/[0-9a-f]{2}\/[0-9a-f]{64}\.[a-z0-9]+$/.test(m.file)) return m.file;
    const ref = part[part.type];
    const url = ref && typeof ref === "object" ? ref.url : ref;
    return typeof url === "string" && /^(https?|file):\/\//i.test(url) ? url : null;
  }

  function openLightbox(src, caption) {
    const box = el("div"); box.id = "lightbox";
    const img = el("img"); img.src = src; img.alt = caption || "image";
    box.appendChild(img);
    if (caption) box.appendChild(el("div", "cap", caption));
    function close() { box.remove(); document.removeEventListener("keydown", onKey); }
    function onKey(e) { if (e.key === "Escape") close(); }
    box.addEventListener("click", close);
    document.addEventListener("keydown", onKey);
    document.body.appendChild(box);
  }

  function mediaNode(part, src) {
    const m = part.media || {};
    const kind = MEDIA[part.type];
    const fig = el("figure", "media media-" + kind);
    const size = m.width && m.height ? m.width + "×" + m.height : "";
    const resized = m.original_width && (m.original_width !== m.width || m.original_height !== m.height)
      ? "from " + m.original_width + "×" + m.original_height : "";
    const caption = [size, resized, m.seconds ? m.seconds + " s" : "", m.page ? "page " + m.page : ""]
      .filter(Boolean).join(" · ");
    if (!src) {
      fig.appendChild(el("div", "media-missing", "[" + kind + (m.sha256 ? " " + m.sha256.slice(0, 12) : "") + ": not stored]"));
    } else if (kind === "image") {
      const img = el("img", "thumb"); img.src = src; img.loading = "lazy"; img.alt = m.source || "image";
      img.title = (m.source || "") + (caption ? " (" + caption + ")" : "") + " — click to enlarge";
      img.addEventListener("click", function () { openLightbox(src, [m.source, caption].filter(Boolean).join(" · ")); });
      fig.appendChild(img);
    } else if (kind === "audio") {
      const audio = el("audio"); audio.controls = true; audio.preload = "none"; audio.src = src;
      fig.appendChild(audio);
    } else {
      const link = el("a", null, m.source || kind); link.href = src; link.target = "_blank"; link.rel = "noopener";
      fig.appendChild(link);
    }
    if (caption) fig.appendChild(el("figcaption", "muted", caption));
    return fig;
  }

  function contentNode(content, row, counter) {
    if (!Array.isArray(content)) return pre(contentText(content));
    const box = el("div", "content");
    let text = [];
    function flush() { if (text.length) { box.appendChild(pre(text.join("\n"))); text = []; } }
    content.forEach(function (p) {
      if (p && MEDIA[p.type]) { flush(); box.appendChild(mediaNode(p, mediaSrc(p, row, counter.k++))); }
      else text.push(p && p.type === "text" ? p.text : contentText([p]));
    });
    flush();
    return box;
  }

  function isEmpty(v) {
    return v === null || v === undefined || (Array.isArray(v) && !v.length) ||
      (typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length);
  }

  // An agent's (or any multi-turn lane's) trajectory as a conversation: each assistant turn with its tool
  // calls folded (<details>), the call's arguments and the result the model got inside.
  function trajectoryView(traj) {
    const box = el("div", "trajectory");
    const facts = [["stop", traj.stop_reason], ["turns", traj.turn_count], ["tool calls", traj.tool_call_count],
                   ["tool errors", traj.tool_errors], ["tokens", traj.usage && traj.usage.total_tokens],
                   ["wall ms", traj.wall_ms], ["model ms", traj.model_ms], ["tool ms", traj.tool_ms]]
      .filter(function (f) { return f[1] !== undefined && f[1] !== null; });
    const head = el("div", "traj-head");
    facts.forEach(function (f) {
      const chip = el("span", "chip" + (f[0] === "stop" ? " stop-" + f[1] : ""), f[0] + ": " + fmt(f[1], 1));
      head.appendChild(chip);
    });
    box.appendChild(head);
    if (traj.error) box.appendChild(el("p", "notice warn", traj.error));
    const results = {};
    (traj.messages || []).forEach(function (m) { if (m.role === "tool" && m.tool_call_id) results[m.tool_call_id] = m; });
    const turns = traj.turns || [];
    const shownInCall = {};
    turns.forEach(function (t) { (t.tool_calls || []).forEach(function (c) { shownInCall[c.id] = true; }); });
    let turnNo = 0;
    (traj.messages || []).forEach(function (m) {
      if (m.role === "tool" && shownInCall[m.tool_call_id]) return;  // shown inside its call
      const d = el("div", "msg role-" + m.role);
      const meta = m.role === "assistant" ? turns[turnNo] : null;
      const label = m.role + (meta ? " · turn " + (turnNo + 1) + " · " + fmt(meta.model_ms, 0) + " ms" +
        (meta.usage ? " · " + meta.usage.completion_tokens + " tokens" : "") + (meta.cached ? " · cached" : "") : "");
      d.appendChild(el("div", "role", label));
      const text = contentText(m.content === null || m.content === undefined ? "" : m.content);
      if (text) d.appendChild(el("pre", null, text));
      const calls = (meta && meta.tool_calls) || [];
      calls.forEach(function (c) {
        const det = el("details", "tool-call status-" + c.status);
        const args = c.arguments ? JSON.stringify(c.arguments) : (c.raw_arguments || "");
        const sum = el("summary");
        sum.appendChild(el("span", "tc-name mono", c.name || "(no name)"));
        sum.appendChild(el("span", "tc-args mono", "(" + (args.length > 80 ? args.slice(0, 79) + "…" : args) + ")"));
        sum.appendChild(el("span", "badge tc-status", c.status));
        if (c.duration_ms !== undefined) sum.appendChild(el("span", "muted", " " + fmt(c.duration_ms, 1) + " ms"));
        det.appendChild(sum);
        det.appendChild(el("h4", null, "arguments"));
        det.appendChild(pre(c.arguments ? c.arguments : (c.raw_arguments || "")));
        if (c.parse_error) det.appendChild(el("p", "notice warn", c.parse_error));
        const res = results[c.id];
        det.appendChild(el("h4", null, "result" + (c.truncated_chars ? " (cut: " + c.truncated_chars + " characters)" : "")));
        det.appendChild(pre(res ? contentText(res.content) : (c.error || "(no result: " + c.status + ")")));
        if (c.source) det.appendChild(el("div", "muted", "source: " + c.source));
        d.appendChild(det);
      });
      msgsOf(box).appendChild(d);
      if (m.role === "assistant") turnNo++;
    });
    if (traj.final_answer !== undefined && traj.final_answer !== null) {
      const fin = el("div", "msg final"); fin.appendChild(el("div", "role", "final answer"));
      fin.appendChild(el("pre", "answer", traj.final_answer)); box.appendChild(fin);
    }
    return box;
  }

  function msgsOf(box) {
    let list = box.querySelector(".messages");
    if (!list) { list = el("div", "messages"); box.appendChild(list); }
    return list;
  }

  async function showDetail(i) {
    state.selected = i;
    render();
    const box = $("sample-detail");
    box.replaceChildren(el("p", "muted", "loading…"));
    const rec = await getRecord(i);
    if (state.selected !== i) return;
    const row = state.rows[i];
    box.replaceChildren();
    const head = el("div", "detail-head");
    head.appendChild(el("b", "mono", row[F.id]));
    head.appendChild(el("span", "muted", " · " + row[F.task] + " · #" + (i + 1) + " "));
    head.appendChild(el("span", "badge o-" + outcome(row), outcome(row)));
    box.appendChild(head);
    if (!rec || rec.__missing) { box.appendChild(el("p", "notice warn", (rec && rec.__missing) || "not available")); return; }
    const sample = rec.sample || {};
    if (rec.trajectory && rec.trajectory.messages) section(box, "Trajectory", trajectoryView(rec.trajectory));
    const msgs = el("div", "messages");
    const counter = { k: 0 };
    (sample.messages || []).forEach(function (m) {
      const d = el("div", "msg role-" + m.role);
      d.appendChild(el("div", "role", m.role));
      d.appendChild(contentNode(m.content, i, counter));
      msgs.appendChild(d);
    });
    if (!(sample.messages || []).length) msgs.appendChild(pre(sample.inputs || {}));
    section(box, rec.trajectory ? "Task" : "Messages", msgs);
    ["label", "references", "choices"].forEach(function (k) { if (!isEmpty(sample[k])) section(box, k, pre(sample[k])); });
    const out = rec.model_output || {};
    const outBox = el("div");
    const media = mediaParts(sample);
    const answer = el("pre", "answer", out.answer === undefined ? "(no model output)" : out.answer);
    if (media.length) {  // the images the model saw, beside its answer
      const row = el("div", "answer-row");
      const gallery = el("div", "gallery");
      media.forEach(function (p, k) { gallery.appendChild(mediaNode(p, mediaSrc(p, i, k))); });
      row.appendChild(gallery); row.appendChild(answer); outBox.appendChild(row);
    } else {
      outBox.appendChild(answer);
    }
    const facts = ["finish_reason", "latency_ms", "usage", "cached"].filter(function (k) { return out[k] !== undefined; })
      .map(function (k) { return k + ": " + (typeof out[k] === "object" ? JSON.stringify(out[k]) : fmt(out[k], 1)); });
    if (facts.length) outBox.appendChild(el("div", "muted", facts.join(" · ")));
    section(box, "Model output", outBox);
    if ((rec.predict_result || []).length > 1) section(box, "All predictions", pre(rec.predict_result));
    section(box, "Judge output", isEmpty(rec.judge_output) ? el("p", "muted", "no judge for this sample") : pre(rec.judge_output));
    const mt = el("table", "grid small");
    Object.keys(rec.metrics || {}).forEach(function (k) {
      const tr = el("tr"); tr.appendChild(el("td", null, k)); tr.appendChild(el("td", "num", fmt(rec.metrics[k], 4)));
      mt.appendChild(tr);
    });
    section(box, "Metrics", Object.keys(rec.metrics || {}).length ? mt : el("p", "muted", "no metrics"));
    if (!isEmpty(rec.metric_details)) section(box, "Metric details", pre(rec.metric_details));
    if (rec.error) section(box, "Error", pre(rec.error));
    if (!isEmpty(rec.timings_ms)) section(box, "Timings (ms)", pre(rec.timings_ms));
  }

  function wire() {
    $("f-task").addEventListener("change", function (e) { state.task = e.target.value; applyFilter(true); });
    let timer = null;
    $("f-search").addEventListener("input", function (e) {
      clearTimeout(timer);
      timer = setTimeout(function () { state.q = e.target.value.trim(); applyFilter(true); }, 150);
    });
    document.querySelectorAll("#f-outcome button").forEach(function (b) {
      b.addEventListener("click", function () {
        document.querySelectorAll("#f-outcome button").forEach(function (x) { x.classList.toggle("on", x === b); });
        state.outcome = b.dataset.outcome;
        applyFilter(true);
      });
    });
    document.querySelectorAll("#pager button").forEach(function (b) {
      b.addEventListener("click", function () {
        const last = Math.max(0, Math.ceil(state.view.length / PAGE_SIZE) - 1);
        state.page = { first: 0, prev: Math.max(0, state.page - 1), next: Math.min(last, state.page + 1), last: last }[b.dataset.go];
        render();
      });
    });
    document.querySelectorAll("#triage .sample-link").forEach(function (b) {
      b.addEventListener("click", function () {  // a triage example: find it in the sample list
        const box = $("f-search");
        box.value = b.dataset.sample; state.q = b.dataset.sample; applyFilter(true);
        $("samples").scrollIntoView();
      });
    });
    document.querySelector("#sample-table tbody").addEventListener("click", function (e) {
      const tr = e.target.closest("tr[data-row]");
      if (tr) showDetail(Number(tr.dataset.row));
    });
  }

  function setCell(td, value, digits) {
    if (!td) return;
    td.textContent = value === null || value === undefined ? "—" : (typeof value === "number" && !Number.isInteger(value)
      ? value.toFixed(digits) : Number(value).toLocaleString("en-US"));
    td.dataset.value = value === null || value === undefined ? "" : String(value);
  }

  // A run in progress: the run card and the metric table follow the samples list, so every count on the
  // page is the same number (the server computes them from the same scan as the rows).
  function showProgress(p) {
    $("meta-samples").textContent = p.sample_count.toLocaleString("en-US");
    if ($("meta-failed")) $("meta-failed").textContent = p.failed.toLocaleString("en-US");
    document.querySelectorAll("#metric-table tbody tr[data-metric]").forEach(function (tr) {
      const m = ((p.metrics || {})[tr.dataset.task] || {})[tr.dataset.metric];
      if (!m) return;
      setCell(tr.querySelector("td.value"), m.value, 4);
      setCell(tr.querySelector("td.stderr"), m.stderr, 4);
      setCell(tr.querySelector("td.count"), m.count, 0);
      const ci = tr.querySelector("td.ci");
      if (ci) ci.textContent = m.ci95 ? "[" + m.ci95[0].toFixed(4) + ", " + m.ci95[1].toFixed(4) + "]" : "—";
    });
  }

  async function poll() {
    try {
      const resp = await fetch(page.api + "/rows?start=" + state.rows.length + "&epoch=" + state.epoch);
      const body = await resp.json();
      if (body.epoch !== state.epoch) { state.epoch = body.epoch; setRows(body.rows); }
      else if (body.rows.length || !state.rows.length) setRows(state.rows.concat(body.rows));
      state.complete = body.complete;
      if (body.progress) showProgress(body.progress);
      const status = $("run-status");
      status.textContent = body.status.replace(/_/g, " "); status.className = "badge status-" + body.status;
      const when = new Date().toLocaleTimeString();
      $("live-status").textContent = body.complete
        ? (page.live ? "· run finished at " + when + " — reload for the final summary" : "")
        : "· live: " + state.rows.length + " samples, updated " + when;
    } catch (e) {
      $("live-status").textContent = "· viewer unreachable, retrying";
    }
    if (!state.complete) setTimeout(poll, page.pollMs || 1000);
  }

  wire();
  if (page.mode === "server") {
    poll();
  } else {
    decodeBlob($("gage-rows").textContent).then(setRows).catch(function (e) {
      $("sample-count").textContent = "cannot decode the embedded samples: " + e;
    });
  }
})();
