"use strict";
// Filters, "show more" paging and paged tables; runs from file:// with no server and no network.
(function () {
  var S = JSON.parse(document.getElementById("i18n").textContent);
  var C = JSON.parse(document.getElementById("config").textContent);
  function tr(key, values) {
    var text = S[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  var findings = Array.prototype.slice.call(document.querySelectorAll("#findings .group .finding"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#findings .group"));
  var shown = {};
  groups.forEach(function (g) { shown[g.id] = C.pageSize; });
  var searchCache = new WeakMap();
  function haystack(el) {
    var h = searchCache.get(el);
    if (h === undefined) { h = el.textContent.toLowerCase(); searchCache.set(el, h); }
    return h;
  }
  function matches(el, state) {
    if (state.sevs.indexOf(el.dataset.sev) < 0) return false;
    if (state.dt && el.dataset.dt !== state.dt) return false;
    if (state.sdk && el.dataset.sdk !== state.sdk) return false;
    if (state.q && haystack(el).indexOf(state.q) < 0) return false;
    return true;
  }
  function readState() {
    var form = document.getElementById("filters");
    if (!form) return null;
    return {
      sevs: Array.prototype.slice.call(form.querySelectorAll("input[name=sev]:checked")).map(function (i) { return i.value; }),
      dt: document.getElementById("filter-dt").value,
      sdk: document.getElementById("filter-sdk").value,
      q: document.getElementById("filter-q").value.trim().toLowerCase()
    };
  }
  function apply() {
    var state = readState();
    if (!state) return;
    var total = 0;
    groups.forEach(function (g) {
      var items = g.querySelectorAll(".finding");
      var hit = 0;
      for (var i = 0; i < items.length; i++) {
        var ok = matches(items[i], state);
        items[i].classList.toggle("filtered-out", !ok);
        if (ok) { hit++; }
        items[i].classList.toggle("paged-out", ok && hit > shown[g.id]);
      }
      total += hit;
      g.classList.toggle("empty", hit === 0);
      g.querySelector(".group-count").textContent = String(hit);
      var more = g.querySelector(".more");
      var rest = hit - Math.min(hit, shown[g.id]);
      more.hidden = rest <= 0;
      more.textContent = tr("js.more", { n: Math.min(rest, C.pageSize), rest: rest });
    });
    document.getElementById("filter-count").textContent = tr("js.count", { shown: total, total: findings.length });
  }
  groups.forEach(function (g) {
    g.querySelector(".more").addEventListener("click", function () { shown[g.id] += C.pageSize; apply(); });
  });
  var form = document.getElementById("filters");
  if (form) {
    form.addEventListener("change", apply);
    document.getElementById("filter-q").addEventListener("input", apply);
    document.getElementById("expand-all").addEventListener("click", function () { setOpen(true); });
    document.getElementById("collapse-all").addEventListener("click", function () { setOpen(false); });
  }
  function setOpen(open) {
    document.querySelectorAll("#findings .finding:not(.filtered-out):not(.paged-out) details.evidence").forEach(function (d) { d.open = open; });
  }
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.classList.contains("finding")) {
      el.classList.remove("paged-out", "filtered-out");
      var d = el.querySelector("details.evidence");
      if (d) d.open = true;
    }
  }
  window.addEventListener("hashchange", reveal);
  // Printing shows every finding with its evidence open: regulators print or save as PDF.
  var printOpened = [];
  window.addEventListener("beforeprint", function () {
    printOpened = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    printOpened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { printOpened.forEach(function (d) { d.open = false; }); });

  // Paged tables over rows embedded as JSON: 50,000 flows stay responsive because only one page is in the DOM.
  function pagedTable(box) {
    var rows = JSON.parse(document.getElementById(box.dataset.source).textContent);
    var cols = box.dataset.cols.split(" ");
    var isObs = box.id === "obs-table";
    var size = C.tablePageSize, page = 0, view = rows, texts = null;
    var bar = document.createElement("div"); bar.className = "pager";
    var search = document.createElement("input"); search.type = "search"; search.placeholder = tr("js.table_filter");
    var prev = document.createElement("button"); prev.type = "button"; prev.textContent = tr("js.prev");
    var next = document.createElement("button"); next.type = "button"; next.textContent = tr("js.next");
    var info = document.createElement("span"); info.className = "page-info";
    bar.append(search, prev, info, next);
    var wrap = document.createElement("div"); wrap.className = "scroll";
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    cols.forEach(function (c) { var th = document.createElement("th"); th.textContent = tr(c); head.appendChild(th); });
    var body = table.createTBody();
    wrap.appendChild(table);
    box.append(bar, wrap);
    function cells(r) {
      if (isObs) {  // [t, phase, red, data type, identifier, host, where, encodings, party, sdk, cleartext]
        return ["+" + r[0].toFixed(1) + " s", r[1] ? tr("phase." + r[1]) : "", r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10] ? tr("js.yes") : ""];
      }  // [t, host, method, url, cleartext, personal]
      return ["+" + r[0].toFixed(1) + " s", r[1], r[2], r[3], r[4] ? tr("js.yes") : "", r[5] ? tr("js.yes") : ""];
    }
    function render() {
      var pages = Math.max(1, Math.ceil(view.length / size));
      page = Math.min(page, pages - 1);
      body.textContent = "";
      view.slice(page * size, page * size + size).forEach(function (r) {
        var row = body.insertRow();
        if (isObs ? r[2] : false) row.className = "red-row";
        cells(r).forEach(function (v, i) { var td = row.insertCell(); td.textContent = v; td.className = "c-" + cols[i].slice(4); });
      });
      info.textContent = tr("js.page", { page: page + 1, pages: pages, rows: view.length });
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
    }
    prev.addEventListener("click", function () { page--; render(); });
    next.addEventListener("click", function () { page++; render(); });
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      if (!texts) texts = rows.map(function (r) { return r.join(" ").toLowerCase(); });
      view = q ? rows.filter(function (r, i) { return texts[i].indexOf(q) >= 0; }) : rows;
      page = 0; render();
    });
    render();
  }
  document.querySelectorAll(".paged").forEach(pagedTable);
  apply();
  reveal();
})();
