/* newsmirror: search the archive in the browser, from static files only.
   Shards are loaded with script tags (file:// allows those, not fetch), newest first. */
(function () {
  "use strict";
  var root = document.currentScript.getAttribute("data-root") || "";
  var state = { fold: {}, shards: 0, docs: {}, waiting: {} };
  var nm = (window.nmSearch = window.nmSearch || {});
  var LIMIT = 50;

  function load(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = root + src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(s);
    });
  }
  nm.index = function (data) { state.fold = data.fold; state.shards = data.shards; };
  nm.shard = function (n, docs) {
    docs.forEach(function (d) { if (d.f === undefined) d.f = d.t + "\n" + d.l; });
    state.docs[n] = docs;
  };

  function fold(text) {
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      out += state.fold[c] || c;
    }
    return out;
  }
  function terms(query) {
    var found = [];
    query.replace(/(-?)"([^"]+)"|(-?)(\S+)/g, function (_, ex1, phrase, ex2, word) {
      var text = phrase !== undefined ? phrase : word;
      var t = fold(text.trim());
      if (t) found.push({ text: t, exclude: (ex1 || ex2) === "-" });
      return "";
    });
    return found;
  }
  /* Where a term is found from position `from` (-1: nowhere): anywhere for Chinese
     and other scripts, at the start of a word for a latin word or a number (as
     `newsmirror search` finds them: "sulliv" finds Sullivan, "ullivan" does not). */
  var WORD = /[a-z0-9]/;
  function find(folded, text, from) {
    var at = folded.indexOf(text, from || 0);
    if (!WORD.test(text[0])) return at;
    while (at > 0 && WORD.test(folded[at - 1])) at = folded.indexOf(text, at + 1);
    return at;
  }
  function matches(doc, ts) {
    for (var i = 0; i < ts.length; i++) {
      var has = find(doc.f, ts[i].text) >= 0;
      if (has === ts[i].exclude) return false;
    }
    return ts.some(function (t) { return !t.exclude; });
  }
  function snippet(doc, ts) {
    var text = doc.t + "\n" + doc.l;
    var first = -1;
    ts.forEach(function (t) {
      if (t.exclude) return;
      var at = find(doc.f, t.text);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    });
    var start = Math.max(0, Math.max(first, doc.t.length + 1) - 40);
    var piece = text.slice(start, start + 120);
    var folded = doc.f.slice(start, start + 120);
    var marks = [];
    ts.forEach(function (t) {
      if (t.exclude) return;
      for (var at = find(folded, t.text); at >= 0; at = find(folded, t.text, at + 1)) {
        marks.push([at, at + t.text.length]);
      }
    });
    marks.sort(function (a, b) { return a[0] - b[0]; });
    var frag = document.createDocumentFragment();
    var pos = 0;
    marks.forEach(function (m) {
      if (m[0] < pos) return;
      frag.appendChild(document.createTextNode(piece.slice(pos, m[0])));
      var mark = document.createElement("mark");
      mark.textContent = piece.slice(m[0], m[1]);
      frag.appendChild(mark);
      pos = m[1];
    });
    frag.appendChild(document.createTextNode(piece.slice(pos) + (start + 120 < text.length ? "…" : "")));
    return frag;
  }
  function show(results, status, done) {
    var list = document.getElementById("results");
    list.textContent = "";
    results.forEach(function (doc) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + doc.p;
      a.textContent = doc.t || "(untitled)";
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = doc.d + " · " + doc.s;
      var p = document.createElement("p");
      p.className = "snippet";
      p.appendChild(snippet(doc, current));
      li.appendChild(a); li.appendChild(meta); li.appendChild(p);
      list.appendChild(li);
    });
    status.textContent = results.length
      ? (done ? "" : "…") + results.length + (results.length >= LIMIT ? "+" : "") + " 篇 results" + (done ? "" : " (searching)")
      : (done ? "没有找到 Nothing found" : "搜索中 Searching…");
  }
  var current = [];
  async function run(query) {
    var status = document.getElementById("status");
    await load("search/index.js");  // the fold table first: terms are folded with it
    current = terms(query);
    if (!current.some(function (t) { return !t.exclude; })) {
      status.textContent = "请输入要找的词 Type a word to search for";
      status.setAttribute("data-done", "1");
      return;
    }
    var results = [];
    for (var n = state.shards - 1; n >= 0 && results.length < LIMIT; n--) {
      if (!state.docs[n]) await load("search/docs-" + String(n).padStart(4, "0") + ".js");
      var docs = state.docs[n] || [];
      for (var i = docs.length - 1; i >= 0 && results.length < LIMIT; i--) {
        if (matches(docs[i], current)) results.push(docs[i]);
      }
      show(results, status, false);
    }
    show(results, status, true);
    status.setAttribute("data-done", "1");
  }
  var params = new URLSearchParams(window.location.search);
  var q = params.get("q") || "";
  var box = document.getElementById("q");
  if (box) box.value = q;
  if (q) run(q).catch(function (e) {
    var status = document.getElementById("status");
    status.textContent = "搜索失败 Search failed: " + e.message;
    status.setAttribute("data-done", "1");
  });
})();
