// blamelex audit report: renders the records from the embedded JSON, a page at a time.
// Every string from the notes is put in the page with textContent or as an attribute value,
// never parsed as HTML, so a note cannot add markup or script.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var F = data.findings;
  var R = data.records;
  var catInfo = {};
  data.categories.forEach(function (c) { catInfo[c.name] = c; });
  var form = document.getElementById("filters");
  var list = document.getElementById("record-list");
  var status = document.getElementById("status");
  var pagers = Array.prototype.slice.call(document.querySelectorAll("nav.pager"));
  var state = { page: 0, shown: [] };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function checked(name) {
    var out = new Set();
    form.querySelectorAll("input[name='" + name + "']").forEach(function (box) {
      if (box.checked) { out.add(box.value); }
    });
    return out;
  }

  function filters() {
    return {
      cats: checked("cat"),
      sevs: checked("sev"),
      voices: checked("voice"),
      clean: form.elements.clean.checked,
      q: form.elements.q.value.trim().toLowerCase()
    };
  }

  function visible(fid, f) {
    var x = F[fid];
    return f.cats.has(x.cat) && f.sevs.has(x.sev) && f.voices.has(voiceOf(x));
  }

  // Findings from a report written before findings carried a voice are the text's own.
  function voiceOf(x) {
    return x.voice || "own";
  }

  function matchesQuery(rec, q) {
    if (!q) { return true; }
    if (String(rec.label).toLowerCase().indexOf(q) >= 0) { return true; }
    if (String(rec.path).toLowerCase().indexOf(q) >= 0) { return true; }
    return Object.keys(rec.extra).some(function (k) {
      return String(rec.extra[k]).toLowerCase().indexOf(q) >= 0;
    });
  }

  function catClass(name) {
    var c = catInfo[name];
    return c ? c.css : "";
  }

  // Only http(s) links are made clickable: a lexicon file could carry any URL.
  function safeUrl(url) {
    return /^https?:\/\//i.test(String(url)) ? String(url) : null;
  }

  function describe(x) {
    var lines = [x.code + " \u00b7 " + (catInfo[x.cat] ? catInfo[x.cat].label : x.cat) +
                 " \u00b7 " + x.sev, x.why];
    if (voiceOf(x) === "reported") { lines[0] += " \u00b7 reported (a label used by others)"; }
    if (x.sug.length) { lines.push("Instead: " + x.sug[0]); }
    return lines.join("\n");
  }

  function findingBox(fid) {
    var x = F[fid];
    var box = el("details", "finding " + catClass(x.cat));
    box.id = "f-" + fid;
    var sum = el("summary");
    sum.appendChild(el("span", "chip", catInfo[x.cat] ? catInfo[x.cat].label : x.cat));
    sum.appendChild(el("code", null, x.code));
    sum.appendChild(el("span", "ftext", "\u201c" + x.text + "\u201d"));
    sum.appendChild(el("span", "sev sev-" + x.sev, x.sev));
    if (voiceOf(x) === "reported") {
      box.classList.add("reported");
      sum.appendChild(el("span", "voice voice-reported", "reported"));
    }
    sum.appendChild(el("span", "loc", "line " + x.line + ", col " + x.col));
    box.appendChild(sum);
    var body = el("div", "fbody");
    if (x.term) { body.appendChild(el("p", null, "Term: " + x.term)); }
    body.appendChild(el("p", "why", x.why));
    if (voiceOf(x) === "reported") {
      body.appendChild(el("p", "voice-note", "Reported: the note attributes this label to " +
                          "someone else. Do not rewrite their words: say who used them and " +
                          "record the professional view of what is happening to the child."));
    }
    if (x.sug.length) {
      body.appendChild(el("h4", null, voiceOf(x) === "reported" ? "Attribute it; in your own words, consider"
                                                               : "Instead, consider"));
      var ul = el("ul", "sugg");
      x.sug.forEach(function (s) { var li = el("li"); li.appendChild(el("q", null, s)); ul.appendChild(li); });
      body.appendChild(ul);
    }
    if (x.src.length) {
      body.appendChild(el("h4", null, "Sources"));
      var sl = el("ul", "sources");
      x.src.forEach(function (s) {
        var li = el("li");
        var url = safeUrl(s[1]);
        if (url) {
          var a = el("a", null, s[0]);
          a.href = url;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          li.appendChild(a);
        } else {
          li.textContent = s[0] + (s[1] ? " (" + s[1] + ")" : "");
        }
        sl.appendChild(li);
      });
      body.appendChild(sl);
    }
    var meta = "score " + Number(x.score).toFixed(2) + " \u00b7 origin " + x.origin +
               " \u00b7 voice " + voiceOf(x);
    if (x.mod.length) { meta += " \u00b7 context: " + x.mod.join(", "); }
    body.appendChild(el("p", "meta", meta));
    box.appendChild(body);
    return box;
  }

  function openFinding(fid) {
    var box = document.getElementById("f-" + fid);
    if (!box) { return; }
    box.open = true;
    box.classList.add("flash");
    box.scrollIntoView({ block: "nearest" });
    window.setTimeout(function () { box.classList.remove("flash"); }, 1200);
  }

  function recordCard(ri, f) {
    var rec = R[ri];
    var card = el("article", "record");
    card.id = "rec-" + ri;
    var head = el("header");
    head.appendChild(el("h3", null, rec.label));
    if (rec.path && rec.path !== rec.label) { head.appendChild(el("span", "path", rec.path)); }
    var keys = Object.keys(rec.extra).filter(function (k) { return rec.extra[k] !== rec.label; });
    if (keys.length) {
      var dl = el("dl", "cols");
      keys.forEach(function (k) {
        var pair = el("div");
        pair.appendChild(el("dt", null, k));
        pair.appendChild(el("dd", null, rec.extra[k]));
        dl.appendChild(pair);
      });
      head.appendChild(dl);
    }
    var shownIds = rec.f.filter(function (fid) { return visible(fid, f); });
    var n = rec.f.length;
    var count = shownIds.length === n ? n + " finding" + (n === 1 ? "" : "s")
                                      : shownIds.length + " of " + n + " findings shown";
    head.appendChild(el("span", "count", count));
    card.appendChild(head);
    rec.warn.forEach(function (w) { card.appendChild(el("p", "warn", "Warning: " + w)); });

    var text = el("p", "text");
    rec.seg.forEach(function (s) {
      if (s === 0) { text.appendChild(el("span", "gap", "\u2026")); return; }
      if (typeof s === "string") { text.appendChild(document.createTextNode(s)); return; }
      var ids = s[1].filter(function (fid) { return visible(fid, f); });
      if (!ids.length) { text.appendChild(document.createTextNode(s[0])); return; }
      var first = F[ids[0]];
      var reported = ids.every(function (fid) { return voiceOf(F[fid]) === "reported"; });
      var mark = el("mark", "hl " + catClass(first.cat) + " sev-hl-" + first.sev +
                    (reported ? " voice-hl-reported" : ""), s[0]);
      mark.setAttribute("data-fids", ids.join(" "));
      mark.title = ids.map(function (fid) { return describe(F[fid]); }).join("\n\n");
      mark.tabIndex = 0;
      text.appendChild(mark);
    });
    card.appendChild(text);
    if (shownIds.length) {
      var boxes = el("div", "findings");
      shownIds.forEach(function (fid) { boxes.appendChild(findingBox(fid)); });
      card.appendChild(boxes);
    }
    return card;
  }

  function renderPager(pages) {
    pagers.forEach(function (nav) {
      nav.textContent = "";
      if (pages <= 1) { return; }
      var prev = el("button", null, "\u2039 Previous");
      prev.type = "button";
      prev.disabled = state.page === 0;
      prev.addEventListener("click", function () { go(state.page - 1); });
      var next = el("button", null, "Next \u203a");
      next.type = "button";
      next.disabled = state.page >= pages - 1;
      next.addEventListener("click", function () { go(state.page + 1); });
      nav.appendChild(prev);
      nav.appendChild(el("span", null, "Page " + (state.page + 1) + " of " + pages));
      nav.appendChild(next);
    });
  }

  function renderPage(f) {
    var size = data.pageSize;
    var pages = Math.max(1, Math.ceil(state.shown.length / size));
    state.page = Math.min(state.page, pages - 1);
    var from = state.page * size;
    var slice = state.shown.slice(from, from + size);
    var frag = document.createDocumentFragment();
    slice.forEach(function (ri) { frag.appendChild(recordCard(ri, f)); });
    list.textContent = "";
    if (!slice.length) { list.appendChild(el("p", "empty", "No records match these filters.")); }
    list.appendChild(frag);
    renderPager(pages);
  }

  function apply() {
    var f = filters();
    var shown = [];
    var nf = 0;
    for (var ri = 0; ri < R.length; ri++) {
      var rec = R[ri];
      if (!matchesQuery(rec, f.q)) { continue; }
      var k = 0;
      for (var j = 0; j < rec.f.length; j++) { if (visible(rec.f[j], f)) { k++; } }
      if (k || f.clean) { shown.push(ri); nf += k; }
    }
    state.shown = shown;
    state.page = 0;
    status.textContent = shown.length + " of " + R.length + " records \u00b7 " + nf + " of " +
                         F.length + " findings match the filters";
    renderPage(f);
  }

  function go(page) {
    state.page = page;
    renderPage(filters());
    document.getElementById("records").scrollIntoView({ block: "start" });
  }

  list.addEventListener("click", function (ev) {
    var mark = ev.target.closest ? ev.target.closest("mark.hl") : null;
    if (mark) { openFinding(mark.getAttribute("data-fids").split(" ")[0]); }
  });
  list.addEventListener("keydown", function (ev) {
    if ((ev.key === "Enter" || ev.key === " ") && ev.target.matches && ev.target.matches("mark.hl")) {
      ev.preventDefault();
      openFinding(ev.target.getAttribute("data-fids").split(" ")[0]);
    }
  });
  form.addEventListener("change", apply);
  var timer = null;
  form.elements.q.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(apply, 150);
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); apply(); });
  apply();
}());
