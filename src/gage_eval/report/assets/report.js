// Sample browser and charts of a gage run report. Works from disk (data embedded) or live in `gage view`
// (data fetched and polled). The sample list is paginated, so 100k samples stay fast.
(function () {
  "use strict";
  const PAGE = 50;
  const source = JSON.parse(document.getElementById("gage-source").textContent);
  const summary = JSON.parse(document.getElementById("gage-summary").textContent);
  let samples = [];
  let filtered = [];
  let page = 0;
  let nextLine = 0;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));

  function badge(s) {
    if (s.st !== "ok") return '<span class="badge bad">failed</span>';
    if (s.ok === true) return '<span class="badge ok">correct</span>';
    if (s.ok === false) return '<span class="badge bad">incorrect</span>';
    return '<span class="badge na">unscored</span>';
  }

  function applyFilters() {
    const task = $("f-task").value, correct = $("f-correct").value, status = $("f-status").value;
    const q = $("f-search").value.toLowerCase();
    filtered = samples.filter((s) =>
      (!task || s.t === task) &&
      (!status || s.st === status) &&
      (!correct || (correct === "correct" ? s.ok === true : correct === "incorrect" ? s.ok === false : s.ok == null)) &&
      (!q || (s.id + " " + s.p + " " + s.a + " " + s.err).toLowerCase().includes(q)));
    page = Math.min(page, Math.max(0, Math.ceil(filtered.length / PAGE) - 1));
    renderPage();
  }

  function renderPage() {
    const rows = filtered.slice(page * PAGE, (page + 1) * PAGE).map((s, i) => {
      const metrics = Object.entries(s.m || {}).map(([k, v]) => k + "=" + (v == null ? "-" : Math.round(v * 1000) / 1000)).join(" ");
      return `<tr data-index="${page * PAGE + i}"><td>${esc(s.t)}</td><td>${esc(s.id)}</td><td>${badge(s)}</td>` +
        `<td>${esc(s.p)}</td><td>${esc(s.a || s.err)}</td><td>${esc(metrics)}</td></tr>`;
    });
    $("sample-rows").innerHTML = rows.join("");
    $("match-count").textContent = `${filtered.length} of ${samples.length} samples`;
    $("page-info").textContent = filtered.length ? `page ${page + 1} of ${Math.ceil(filtered.length / PAGE)}` : "no samples match";
  }

  function showDetail(s) {
    $("detail").innerHTML = `<h2>${esc(s.t)} / ${esc(s.id)} ${badge(s)}</h2>` +
      ["messages", "label", "model_output", "judge_output", "metric_details", "error"].map((k) =>
        s.d && s.d[k] != null && !(typeof s.d[k] === "object" && Object.keys(s.d[k]).length === 0)
          ? `<h3>${k}</h3><pre>${esc(JSON.stringify(s.d[k], null, 2))}</pre>` : "").join("") +
      `<h3>metrics</h3><pre>${esc(JSON.stringify(s.m, null, 2))}</pre>`;
  }

  function refreshTaskOptions() {
    const tasks = [...new Set(samples.map((s) => s.t))];
    const sel = $("f-task"), current = sel.value;
    sel.innerHTML = '<option value="">all tasks</option>' + tasks.map((t) => `<option>${esc(t)}</option>`).join("");
    sel.value = current;
  }

  function charts() {
    if (typeof Plotly === "undefined") return;
    const tasks = summary && summary.tasks ? summary.tasks : [];
    const names = [...new Set(tasks.flatMap((t) => Object.keys(t.metrics || {}).filter((m) => (t.metrics[m].aggregation || "mean") === "mean" && m !== "latency")))];
    const bars = names.map((m) => ({type: "bar", name: m, x: tasks.map((t) => t.task_id),
      y: tasks.map((t) => (t.metrics[m] || {}).value), error_y: {type: "data", array: tasks.map((t) => (t.metrics[m] || {}).stderr || 0)}}));
    Plotly.newPlot("chart-scores", bars, {title: {text: "Scores per task (± stderr)"}, margin: {t: 40}, height: 320}, {displaylogo: false});
    const lat = samples.map((s) => s.lat).filter((v) => v != null);
    Plotly.newPlot("chart-latency", [{type: "histogram", x: lat}], {title: {text: "Latency (ms)"}, margin: {t: 40}, height: 320}, {displaylogo: false});
    const reasons = {};
    samples.filter((s) => s.st !== "ok").forEach((s) => { const r = (s.err || "error").slice(0, 60); reasons[r] = (reasons[r] || 0) + 1; });
    const rk = Object.keys(reasons);
    Plotly.newPlot("chart-failures", [{type: "bar", x: rk.length ? rk : ["none"], y: rk.length ? rk.map((k) => reasons[k]) : [0]}],
      {title: {text: "Failures by reason"}, margin: {t: 40}, height: 320}, {displaylogo: false});
  }

  function ingest(batch) {
    samples.push(...batch.samples);
    nextLine = batch.next_line;
    refreshTaskOptions();
    applyFilters();
  }

  async function poll() {
    try {
      const resp = await fetch(`${source.url}?after=${nextLine}`);
      if (resp.ok) {
        const batch = await resp.json();
        if (batch.samples.length) { ingest(batch); charts(); }
        $("live-status").textContent = batch.finished ? "run finished" : `live: ${samples.length} samples so far`;
        if (batch.finished) return;
      }
    } catch (e) { $("live-status").textContent = "viewer unreachable; retrying"; }
    setTimeout(poll, source.interval_ms || 2000);
  }

  ["f-task", "f-correct", "f-status"].forEach((id) => $(id).addEventListener("change", () => { page = 0; applyFilters(); }));
  $("f-search").addEventListener("input", () => { page = 0; applyFilters(); });
  $("prev").addEventListener("click", () => { if (page > 0) { page--; renderPage(); } });
  $("next").addEventListener("click", () => { if ((page + 1) * PAGE < filtered.length) { page++; renderPage(); } });
  $("sample-rows").addEventListener("click", (e) => {
    const tr = e.target.closest("tr"); if (tr) showDetail(filtered[Number(tr.dataset.index)]);
  });

  if (source.mode === "embedded") {
    ingest({samples: JSON.parse(document.getElementById("gage-samples").textContent), next_line: 0});
    // Charts after first paint of the table: the page is usable before plotly has drawn.
    requestAnimationFrame(() => setTimeout(charts, 0));
  } else {
    poll();
  }
})();
