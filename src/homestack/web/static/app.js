// homestack dashboard: live rows and lock over one EventSource, action progress, live logs.
// The pages work without it (forms post and redirect); this only makes them live.
(function () {
  "use strict";

  function live() {
    const holder = document.querySelector("[data-live]");
    if (!holder || !window.EventSource) return;
    const events = new EventSource(holder.getAttribute("data-live"));
    events.addEventListener("row", (e) => {
      const data = JSON.parse(e.data);
      const row = document.getElementById(data.id);
      if (row) row.outerHTML = data.html;
    });
    events.addEventListener("lock", (e) => {
      const data = JSON.parse(e.data);
      const box = document.getElementById("lock");
      if (!box) return;
      document.getElementById("lock-holders").textContent = data.holders.join("; ");
      box.classList.toggle("hidden", data.holders.length === 0);
    });
  }

  function follow(panel) {
    // an action card just put on the page: stream its progress lines until it is done
    const card = panel.querySelector("[data-action]");
    if (!card || card.getAttribute("data-done") === "yes" || card.dataset.following) return;
    card.dataset.following = "1";
    const pre = card.querySelector("pre.progress");
    const state = card.querySelector(".action-state");
    pre.textContent = "";
    const events = new EventSource("/actions/" + card.getAttribute("data-action") + "/events");
    events.addEventListener("line", (e) => {
      pre.textContent += JSON.parse(e.data) + "\n";
      pre.scrollTop = pre.scrollHeight;
    });
    events.addEventListener("done", (e) => {
      const data = JSON.parse(e.data);
      events.close();
      card.classList.remove("running");
      card.classList.add(data.ok ? "ok" : "failed");
      card.setAttribute("data-done", "yes");
      state.textContent = data.ok ? "done" : "failed";
      document.querySelectorAll("form.act button").forEach((b) => (b.disabled = false));
    });
  }

  function logs() {
    const pre = document.getElementById("log");
    if (!pre) return;
    const form = document.getElementById("log-filter");
    let source = null;
    function open() {
      if (source) source.close();
      pre.textContent = "";
      const params = new URLSearchParams(new FormData(form));
      const following = params.get("follow");
      params.delete("follow");
      source = new EventSource(pre.getAttribute("data-logs") + "?" + params.toString());
      source.addEventListener("line", (e) => {
        const line = JSON.parse(e.data);
        const span = document.createElement("span");
        if (line.level) span.className = line.level;
        span.textContent = (line.time ? line.time.slice(11, 19) + " " : "") + line.line + "\n";
        pre.appendChild(span);
        while (pre.childNodes.length > 2000) pre.removeChild(pre.firstChild);
        if (following) pre.scrollTop = pre.scrollHeight;
      });
    }
    form.addEventListener("submit", (e) => { e.preventDefault(); open(); });
    open();
  }

  document.addEventListener("DOMContentLoaded", () => {
    live();
    logs();
    document.body.addEventListener("htmx:beforeRequest", (e) => {
      const notice = document.getElementById("action-notice");
      if (notice) notice.innerHTML = "";
      const button = e.detail.elt.querySelector && e.detail.elt.querySelector("button");
      if (button) button.disabled = true;
    });
    document.body.addEventListener("htmx:afterSwap", (e) => {
      if (e.detail.target.id === "action-panel") follow(e.detail.target);
      if (e.detail.target.id === "action-notice") {
        // refused: the buttons are usable again unless an action of this page still runs
        const running = document.querySelector("#action-panel [data-done=no]");
        if (!running) document.querySelectorAll("form.act button").forEach((b) => (b.disabled = false));
      }
    });
    document.querySelectorAll("#action-panel, main").forEach(follow);
  });
})();
