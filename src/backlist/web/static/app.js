// backlist: the few live bits (search as you type, keyboard, copy citation, ingest progress).
// Everything works without this file; it only saves page loads.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // --- search as you type ---------------------------------------------------------------------
  function liveSearch() {
    const form = $("#search-form");
    const results = $("#results");
    if (!form || !results) return;
    let timer = null;
    let inflight = null;

    function params() {
      const p = new URLSearchParams();
      for (const [k, v] of new FormData(form)) {
        if (typeof v === "string" && v.trim() !== "" && !(k === "mode" && v === "hybrid") && !(k === "sort" && v === "relevance")) p.set(k, v);
      }
      return p;
    }

    async function run() {
      const p = params();
      if (inflight) inflight.abort();
      inflight = new AbortController();
      results.classList.add("loading");
      try {
        const res = await fetch(results.dataset.endpoint + "?" + p.toString(),
          { signal: inflight.signal, credentials: "same-origin", headers: { Accept: "text/html" } });
        // The fragment is rendered (and escaped) by the server's templates.
        results.innerHTML = await res.text();
        history.replaceState(null, "", p.toString() ? "/?" + p.toString() : "/");
        document.title = (p.get("q") || "Search") + " · backlist";
      } catch (err) {
        if (err.name !== "AbortError") results.textContent = "Search failed: " + err.message;
      } finally {
        results.classList.remove("loading");
      }
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(run, 220);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); clearTimeout(timer); run(); });
  }

  // --- keyboard: / focuses the box, arrows move between hits, Enter opens (links do that) ------
  function keyboard() {
    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      const box = $("#q") || $("#tq");
      if (ev.key === "/" && !typing && box && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
        ev.preventDefault();
        box.focus();
        box.select();
        return;
      }
      if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
      const links = $$(".hit-link");
      if (!links.length) return;
      const inBox = box && t === box;
      const at = links.indexOf(t);
      if (!inBox && at < 0) return;
      ev.preventDefault();
      let next;
      if (ev.key === "ArrowDown") next = at < 0 ? 0 : Math.min(at + 1, links.length - 1);
      else if (at <= 0) { if (box) box.focus(); $$(".hit.active").forEach((h) => h.classList.remove("active")); return; }
      else next = at - 1;
      $$(".hit.active").forEach((h) => h.classList.remove("active"));
      links[next].focus();
      links[next].closest(".hit").classList.add("active");
      links[next].closest(".hit").scrollIntoView({ block: "nearest" });
    });
  }

  // --- copy citation -----------------------------------------------------------------------------
  function copyCitations() {
    document.addEventListener("click", async (ev) => {
      const btn = ev.target instanceof Element ? ev.target.closest(".copy") : null;
      if (!btn) return;
      const text = btn.dataset.citation || "";
      let ok = false;
      try {
        await navigator.clipboard.writeText(text);
        ok = true;
      } catch (_) {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        ok = document.execCommand("copy");
        area.remove();
      }
      btn.textContent = ok ? "Copied" : "Copy failed";
      btn.classList.toggle("done", ok);
      setTimeout(() => { btn.textContent = "Copy citation"; btn.classList.remove("done"); }, 1800);
    });
  }

  // --- ingest progress -----------------------------------------------------------------------------
  function ingestProgress() {
    const box = $("#job");
    if (!box || box.dataset.state !== "running") return;
    const bar = $("#ingest-progress");
    const status = $("#job-status");
    async function poll() {
      try {
        const res = await fetch("/api/ingest/" + encodeURIComponent(box.dataset.job), { credentials: "same-origin" });
        const job = await res.json();
        bar.value = job.percent;
        let line = job.state + " — " + job.phase;
        if (job.phase === "reading") line += " " + job.sources_done + "/" + job.sources_total + (job.current ? " (" + job.current + ")" : "");
        if (job.phase === "embedding") line += " " + job.embed_done + "/" + job.embed_total + " passages";
        status.textContent = line;
        if (job.state === "running") { setTimeout(poll, 400); return; }
        box.dataset.state = job.state;
        setTimeout(() => location.reload(), 300);
      } catch (err) {
        status.textContent = "Lost track of the ingest: " + err.message;
        setTimeout(poll, 2000);
      }
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    liveSearch();
    keyboard();
    copyCitations();
    ingestProgress();
  });
})();
