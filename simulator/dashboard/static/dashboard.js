/* pismo-sandbox dashboard: live sections, the clock buttons, and the forms (sent as JSON). */
"use strict";

(function () {
  const notice = document.getElementById("notice");

  function say(message, ok) {
    if (!notice) return;
    notice.textContent = message;
    notice.className = ok ? "ok" : "error";
    notice.hidden = !message;
  }

  async function send(method, url, body) {
    const options = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!response.ok) {
      const detail = data && (data.details || data.message) ? (data.details || data.message) : response.statusText;
      throw new Error((data && data.code ? data.code + ": " : "") + detail);
    }
    return data;
  }

  // -- live sections: re-rendered by the server, polled; rows not seen before are marked fresh ---
  const sections = Array.from(document.querySelectorAll("[data-live]"));

  function keys(root) {
    return new Set(Array.from(root.querySelectorAll("[data-row]")).map(function (el) { return el.dataset.row; }));
  }

  function showClock(clock) {
    const now = document.getElementById("clock-now");
    const state = document.getElementById("clock-state");
    if (!now || !clock) return;
    now.textContent = clock.now.replace("T", " ");
    state.textContent = clock.frozen ? "frozen" : "ticking";
    state.className = "badge " + (clock.frozen ? "frozen" : "ticking");
    document.querySelector('[data-clock="freeze"]').disabled = clock.frozen;
    document.querySelector('[data-clock="unfreeze"]').disabled = !clock.frozen;
  }

  async function refresh(section) {
    const data = await send("GET", section.dataset.live);
    showClock(data.clock);
    const active = document.activeElement;
    if (active && section.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) {
      return;  // someone is using a field in here: do not pull it from under them
    }
    if (section.dataset.html === data.html) return;
    const before = keys(section);
    section.innerHTML = data.html;
    section.dataset.html = data.html;
    section.querySelectorAll("[data-row]").forEach(function (el) {
      if (!before.has(el.dataset.row)) el.classList.add("fresh");
    });
  }

  let polling = false;
  async function poll() {
    if (polling || document.hidden) return;
    polling = true;
    try {
      for (const section of sections) await refresh(section);
      document.body.classList.remove("offline");
    } catch (error) {
      document.body.classList.add("offline");
    } finally {
      polling = false;
    }
  }

  if (sections.length) {
    sections.forEach(function (section) { section.dataset.html = ""; });
    const every = Number(document.body.dataset.pollMs) || 1500;
    setInterval(poll, every);
  }

  // -- the clock ---------------------------------------------------------------------------------
  const clock = document.getElementById("clock");
  if (clock) {
    clock.addEventListener("click", async function (event) {
      const button = event.target.closest("button[data-clock]");
      if (!button) return;
      const body = {action: button.dataset.clock};
      if (button.dataset.preset) body.preset = button.dataset.preset;
      try {
        showClock(await send("POST", clock.dataset.url, body));
        say("", true);
        await poll();
      } catch (error) { say(error.message, false); }
    });
  }

  // -- forms and buttons inside live sections (delegated: sections are re-rendered) --------------
  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (form.classList.contains("account-status")) {
      event.preventDefault();
      try {
        await send("POST", form.dataset.url, {status: form.elements.status.value});
        say("Account status changed.", true);
        form.querySelector("select").blur();
        await poll();
      } catch (error) { say(error.message, false); }
    }
  });

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-delete]");
    if (!button) return;
    try {
      await send("DELETE", button.dataset.delete);
      say("Rule deleted.", true);
      await poll();
    } catch (error) { say(error.message, false); }
  });

  // -- the fault form: fields named "part.field" build the rule; empty fields are left out -------
  function ruleFrom(form) {
    const rule = {};
    for (const field of Array.from(form.elements)) {
      if (!field.name || field.value.trim() === "") continue;
      const raw = field.value.trim();
      let value = raw;
      if (field.dataset.type === "integer" && /^-?[0-9]+$/.test(raw)) value = Number(raw);
      if (field.dataset.type === "number" && raw !== "" && isFinite(Number(raw))) value = Number(raw);
      if (field.dataset.type === "json") {
        try { value = JSON.parse(raw); } catch (e) { throw new Error(field.name + ": not valid JSON"); }
      }
      const path = field.name.split(".");
      let target = rule;
      for (const part of path.slice(0, -1)) target = target[part] = target[part] || {};
      target[path[path.length - 1]] = value;
    }
    return rule;
  }

  const faultForm = document.getElementById("fault-form");
  if (faultForm) {
    faultForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      try {
        const created = await send("POST", faultForm.dataset.url, ruleFrom(faultForm));
        say("Rule " + created.id + " added.", true);
        faultForm.reset();
        await poll();
      } catch (error) { say(error.message, false); }
    });
  }

  // -- logging in and out ------------------------------------------------------------------------
  const login = document.getElementById("login");
  if (login) {
    login.addEventListener("submit", async function (event) {
      event.preventDefault();
      try {
        const done = await send("POST", login.dataset.url, {token: login.elements.token.value, next: login.dataset.next});
        window.location.assign(done.next);
      } catch (error) { say(error.message, false); }
    });
  }

  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async function () {
      const done = await send("POST", logout.dataset.url, {});
      window.location.assign(done.next);
    });
  }
})();
