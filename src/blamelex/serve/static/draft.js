// blamelex drafting page: scans the note as it is typed (debounced) through /v1/scan and shows
// the findings. The note is kept only in this page: never in storage, cookies or the URL.
// Every piece of note text reaches the page through textContent, never as markup.
"use strict";

(function () {
  const DEBOUNCE_MS = 300;
  const note = document.getElementById("note");
  const preview = document.getElementById("preview");
  const list = document.getElementById("findings");
  const riskSection = document.getElementById("risk-section");
  const riskList = document.getElementById("risk");
  const status = document.getElementById("status");
  const count = document.getElementById("count");
  const none = document.getElementById("none");
  const undoButton = document.getElementById("undo");
  const tokenBox = document.getElementById("token-box");
  const tokenInput = document.getElementById("token");
  let token = "";
  let timer = 0;
  let seq = 0;
  let shown = { text: null, findings: [] };
  const undo = [];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // The API counts characters (code points); JavaScript strings count UTF-16 units.
  function unitsOf(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return (i) => i;
    const map = [];
    let u = 0;
    for (const ch of text) { map.push(u); u += ch.length; }
    map.push(u);
    return (i) => map[Math.min(i, map.length - 1)];
  }

  function label(name) { return String(name || "").replace(/_/g, " "); }

  function setStatus(message) { status.textContent = message; }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(scan, delay === undefined ? DEBOUNCE_MS : delay);
  }

  async function scan() {
    const text = note.value;
    const mine = ++seq;
    if (!text.trim()) { render(text, []); setStatus(""); return; }
    let answer;
    try {
      const headers = { "content-type": "application/json" };
      if (token) headers.authorization = "Bearer " + token;
      answer = await fetch("/v1/scan", { method: "POST", headers, body: JSON.stringify({ text }),
                                         credentials: "omit", cache: "no-store" });
    } catch (e) {
      if (mine === seq) setStatus("The blamelex service did not answer; is it running?");
      return;
    }
    if (mine !== seq || note.value !== text) return; // the note changed meanwhile
    if (answer.status === 401) {
      tokenBox.hidden = false;
      setStatus("This service needs an API token.");
      return;
    }
    if (answer.status === 503 || answer.status === 408) {
      const wait = Number(answer.headers.get("retry-after") || "1");
      setStatus("The service is busy; checking again shortly.");
      schedule(Math.max(1, wait) * 1000);
      return;
    }
    if (!answer.ok) {
      let detail = "";
      try { const body = await answer.json(); detail = typeof body.detail === "string" ? body.detail : ""; } catch (e) { /* not JSON */ }
      setStatus("The note could not be checked (" + answer.status + (detail ? ": " + detail : "") + ").");
      return;
    }
    const body = await answer.json();
    if (mine !== seq || note.value !== text) return;
    render(text, body.findings || []);
  }

  function render(text, findings) {
    shown = { text, findings };
    const units = unitsOf(text);
    preview.replaceChildren();
    list.replaceChildren();
    riskList.replaceChildren();
    // The note with each flagged stretch as a link to its finding; overlapping findings split
    // the text at every start and end.
    const cuts = new Set([0, text.length]);
    findings.forEach((f) => { cuts.add(units(f.start)); cuts.add(units(f.end)); });
    const points = [...cuts].sort((a, b) => a - b);
    for (let k = 0; k + 1 < points.length; k++) {
      const a = points[k], b = points[k + 1];
      const covering = [];
      findings.forEach((f, i) => { if (units(f.start) <= a && b <= units(f.end)) covering.push(i); });
      if (!covering.length) { preview.append(document.createTextNode(text.slice(a, b))); continue; }
      const first = findings[covering[0]];
      const mark = el("a", {
        href: "#finding-" + covering[0],
        class: "hl sev-" + first.severity + " cat-" + first.category,
        "data-findings": covering.join(" "),
        title: covering.map((i) => findings[i].code + " " + label(findings[i].category)).join("; "),
      }, text.slice(a, b));
      mark.addEventListener("click", (ev) => {
        ev.preventDefault();
        const card = document.getElementById("finding-" + covering[0]);
        if (card) card.focus();
      });
      preview.append(mark);
    }
    let risks = 0;
    findings.forEach((f, i) => {
      const card = card_for(f, i);
      if (f.category === "risk_grading") { riskList.append(card); risks++; }
      else list.append(card);
    });
    riskSection.hidden = risks === 0;
    const n = findings.length;
    count.textContent = n ? "(" + n + ")" : "";
    none.hidden = n !== 0;
    setStatus(n === 0 ? "Nothing flagged." : n + (n === 1 ? " finding." : " findings."));
  }

  function card_for(f, i) {
    const card = el("li", {
      id: "finding-" + i, tabindex: "-1", class: "card sev-" + f.severity + " cat-" + f.category,
      "data-start": f.start, "data-end": f.end, "data-code": f.code,
    });
    const h = el("h3");
    h.append(el("span", { class: "code" }, f.code), document.createTextNode(" \u201c" + f.text + "\u201d"));
    h.append(el("span", { class: "badge" }, f.severity));
    h.append(el("span", { class: "badge" }, label(f.category)));
    if (f.voice) {
      h.append(el("span", { class: "badge voice" },
                  f.voice === "reported" ? "reported: another person's words" : "voice: " + f.voice));
    }
    card.append(h);
    if (f.explanation) card.append(el("p", { class: "explanation" }, f.explanation));
    const mods = (f.modifiers || []).map((m) => m.name).filter(Boolean);
    if (mods.length) card.append(el("p", { class: "note" }, "Context: " + mods.join(", ").toLowerCase()));
    if (f.origin === "model") {
      card.append(el("p", { class: "note" }, "Found by the model: the suggestions are general guidance."));
    }
    const sugs = f.suggestions || [];
    if (sugs.length) {
      card.append(el("p", { class: "note" }, "Instead, write:"));
      const ul = el("ul", { class: "suggestions" });
      sugs.forEach((s, j) => {
        const li = el("li");
        const button = el("button", { type: "button", class: "apply", "data-finding": i, "data-suggestion": j },
                          "Use \u201c" + s.text + "\u201d");
        button.addEventListener("click", () => apply(f, s));
        li.append(button);
        ul.append(li);
      });
      card.append(ul);
    }
    const sources = f.sources || [];
    if (sources.length) {
      const details = el("details");
      details.append(el("summary", {}, "Sources (" + sources.length + ")"));
      const ul = el("ul");
      sources.forEach((s) => {
        const li = el("li");
        const a = el("a", { href: s.url, rel: "noopener noreferrer", target: "_blank" }, s.title || s.url);
        if (!/^https?:\/\//i.test(s.url || "")) a.removeAttribute("href");
        li.append(a);
        ul.append(li);
      });
      details.append(ul);
      card.append(details);
    }
    return card;
  }

  function apply(f, s) {
    const text = note.value;
    if (text !== shown.text) { setStatus("The note changed; checking again."); schedule(0); return; }
    const units = unitsOf(text);
    const a = units(s.start), b = units(s.end);
    undo.push(text);
    undoButton.disabled = false;
    note.value = text.slice(0, a) + s.text + text.slice(b);
    note.focus();
    note.setSelectionRange(a + s.text.length, a + s.text.length);
    setStatus("Replaced \u201c" + text.slice(a, b) + "\u201d. Undo is available.");
    schedule(0);
  }

  undoButton.addEventListener("click", () => {
    if (!undo.length) return;
    note.value = undo.pop();
    undoButton.disabled = undo.length === 0;
    note.focus();
    setStatus("Change undone.");
    schedule(0);
  });

  tokenBox.addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = tokenInput.value.trim();
    tokenInput.value = "";
    tokenBox.hidden = true;
    schedule(0);
  });

  note.addEventListener("input", () => schedule());
  render("", []);
  setStatus("");
  if (note.value) schedule(0);
})();
