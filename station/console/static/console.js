// Progressive enhancement only: every page works as plain forms; this adds the live stream,
// the live-tuning sliders and the camera's snapshot and region drawing.
"use strict";
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const page = document.body.dataset.page;

function stream(onStatus) {
  const state = document.getElementById("live-state");
  const source = new EventSource("/live/stream");
  source.onmessage = (event) => {
    const s = JSON.parse(event.data);
    if (state) {
      state.textContent = s.running ? `Station: ${s.phase}` + (s.preset ? ` · preset ${s.preset}` : "")
        + (s.config_problem ? ` · config problem: ${s.config_problem}` : "") : s.message;
    }
    if (s.running) onStatus(s);
  };
  source.onerror = () => { if (state) state.textContent = "Connection lost; retrying…"; };
}

// A meter fills toward "worse" for every light: the fault registry says, per metric, whether
// a higher or a lower value is the fault (data-worse), so e.g. the landing camera's heel lift,
// where LOWER is worse, is drawn the right way round. Positions are on the "badness" axis
// d·value (d = +1 higher-is-worse, -1 lower-is-worse), from a better-than-warn start to a
// little past the fault level, widened to show the value.
function drawMeter(meter, m) {
  const d = meter.dataset.worse === "lower" ? -1 : 1;
  const warn = d * m.warn;
  const fault = d * m.fault;
  const value = m.value == null ? null : d * m.value;
  const gap = Math.max(Math.abs(fault - warn), 1e-9);
  let lo = d > 0 && m.warn >= 0 ? 0 : warn - 2 * gap;
  let hi = fault + gap;
  if (value != null) { lo = Math.min(lo, value); hi = Math.max(hi, value); }
  const at = (x) => `${(100 * (x - lo)) / (hi - lo)}%`;
  const bar = meter.querySelector(".bar");
  bar.style.width = value == null ? "0%" : at(value);
  bar.className = `bar ${m.state || ""}`;
  meter.querySelector(".mark.warn").style.left = at(warn);
  meter.querySelector(".mark.fault").style.left = at(fault);
}

function setSlider(root, key, value) {
  const input = root.querySelector(`input[type=range][data-key="${key}"]`);
  if (!input || typeof value !== "number") return;
  input.value = value;
  const out = root.querySelector(`[data-out="${key}"]`);
  if (out) out.textContent = String(value);
}

function liveTuning() {
  const root = document.getElementById("live");
  stream((s) => {
    const c = s.counts || {};
    document.getElementById("live-counts").textContent =
      `${c.jumps ?? 0} jumps · ${Math.round(c.cadence_per_min ?? 0)}/min · streak ${c.streak ?? 0}`;
    for (const [fault, light] of Object.entries(s.lights || {})) {
      for (const el of root.querySelectorAll(`[data-light="${fault}"]`)) el.className = `light ${light}`;
    }
    for (const [fault, m] of Object.entries(s.metrics || {})) {
      const v = root.querySelector(`[data-value="${fault}"]`);
      if (v) v.textContent = m.value == null ? "–" : `${Number(m.value).toFixed(2)} ${m.unit || ""}`;
      const meter = root.querySelector(`[data-meter="${fault}"]`);
      if (meter) drawMeter(meter, m);
    }
  });
  const saveState = document.getElementById("save-state");
  const saveProblem = document.getElementById("save-problem");
  const say = (text) => { saveState.textContent = text; };
  // A refusal stays in view (role=alert) until that slider is saved again.
  const refuse = (key, text) => {
    saveProblem.textContent = `${key}: ${text}`;
    saveProblem.dataset.key = key;
    saveProblem.hidden = false;
  };
  // One save at a time, in the order the sliders were let go: each sends the version the
  // previous save returned, so two quick moves are two saves, not a conflict with ourselves.
  // A real conflict (someone else saved in between) is still refused by the server; the
  // moves queued behind it were made on the old values, so they are dropped and said so.
  let queue = Promise.resolve();
  let waiting = 0;
  let epoch = 0;
  const save = async (key, value, madeIn) => {
    if (madeIn !== epoch) {
      refuse(key, "NOT saved: you moved it before the change above was refused; it shows the value in force. Move it again to change it.");
      return;
    }
    let response;
    try {
      response = await fetch("/api/set", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ key, value, version: root.dataset.version }),
      });
    } catch (err) {
      epoch += 1;
      refuse(key, "NOT saved: no answer from the console (is the phone still on the gym's Wi-Fi?).");
      return;
    }
    // A login that ended (timeout, a console restart, a new password) answers 401 in plain
    // text: say so, rather than fail silently and leave the trainer thinking it was saved.
    const reply = await response.json().catch(() => ({}));
    if (reply.version) root.dataset.version = reply.version;
    // Refused: every slider shows what is really in the file (someone else's values).
    for (const [k, v] of Object.entries(reply.values || {})) setSlider(root, k, v);
    if (response.ok) {
      if (saveProblem.dataset.key === key) saveProblem.hidden = true;
      if (waiting === 0) say(`${key}: ${reply.message}`);
      return;
    }
    epoch += 1;
    const why = response.status === 401
      ? "not saved: your login has ended. Reload the page and log in again."
      : `not saved (error ${response.status}).`;
    refuse(key, reply.message || why);
    if (waiting === 0) say("");
  };
  for (const input of root.querySelectorAll("input[type=range]")) {
    const out = root.querySelector(`[data-out="${input.dataset.key}"]`);
    input.addEventListener("input", () => { out.textContent = String(Number(input.value)); });
    input.addEventListener("change", () => {
      const key = input.dataset.key;
      const value = input.value;
      const madeIn = epoch;
      waiting += 1;
      say(`${key}: saving…`);
      queue = queue.then(() => { waiting -= 1; return save(key, value, madeIn); });
    });
  }
}

function mat() {
  stream((s) => {
    const m = s.mat || {};
    const forces = m.force_n || [];
    const top = Math.max(1000, ...forces);
    forces.forEach((f, i) => {
      const bar = document.querySelector(`[data-zone="${i}"]`);
      if (bar) bar.style.width = `${100 * Math.max(0, f) / top}%`;
      const out = document.querySelector(`[data-zone-n="${i}"]`);
      if (out) out.textContent = f.toFixed(0);
    });
    const total = document.getElementById("mat-total");
    total.textContent = (m.total_n ?? forces.reduce((a, b) => a + b, 0)).toFixed(0);
  });
}

// Zero and scale: one tap runs one calibration. The buttons are disabled while it runs, the
// form says it is waiting for the station (seconds counting), then shows the result or the
// error; the server refuses a second one at once (409) from any phone.
function calibrations() {
  const buttons = () => document.querySelectorAll("form[data-calibrate] button, form[data-once] button");
  for (const form of document.querySelectorAll("form[data-calibrate]")) {
    const out = form.querySelector(".progress");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (document.body.dataset.calibrating) {
        // A double tap (or another form's) while one runs sends nothing. The refusal is
        // counted on the form, so it can be seen (a test waits on it, not on time) rather
        // than inferred from a request that did not come.
        form.dataset.refusedTaps = String(Number(form.dataset.refusedTaps || 0) + 1);
        return;
      }
      document.body.dataset.calibrating = form.id;
      for (const b of buttons()) b.disabled = true;
      form.setAttribute("aria-busy", "true");
      const started = Date.now();
      const tick = () => {
        out.textContent = `${form.dataset.calibrate}… waiting for the station (${Math.round((Date.now() - started) / 1000)} s)`;
      };
      out.className = "progress running";
      tick();
      const timer = setInterval(tick, 500);
      let reply = {};
      let status = 0;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json", "X-CSRF-Token": csrf },
        });
        status = response.status;
        reply = await response.json().catch(() => ({}));
      } catch (err) {
        reply = { ok: false, message: "No answer from the console (is the phone still on the gym's Wi-Fi?). Nothing was saved." };
      }
      clearInterval(timer);
      out.className = `progress ${reply.ok ? "done" : "failed"}`;
      out.textContent = reply.message || `Failed (error ${status}).`;
      if (status === 401) {
        const again = document.createElement("a");
        again.href = "/login?next=/mat";
        again.textContent = " Log in again.";
        out.append(again);
      }
      if (reply.saved) {
        // This save's own version: the page's next save sends it (someone else's still conflicts).
        for (const v of document.querySelectorAll('input[name="version"]')) v.value = reply.version;
        await refreshSection("/mat", "mat-config");
      }
      form.removeAttribute("aria-busy");
      for (const b of buttons()) b.disabled = false;
      delete document.body.dataset.calibrating;
    });
  }
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      for (const b of buttons()) b.disabled = true;
    });
  }
}

async function refreshSection(url, id) {
  try {
    const html = await (await fetch(url)).text();
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
    if (fresh) document.getElementById(id).replaceWith(fresh);
  } catch (err) { /* the figures show on the next page load */ }
}

// --- the values of a settings form: saved (data-saved, the value in force) vs entered ---------

const fieldsOf = (form) => [...form.elements].filter(
  (el) => el.name && el.dataset.saved !== undefined && !el.disabled);
const entered = (el) => (el.type === "checkbox" ? String(el.checked) : el.value.trim());
const same = (a, b) => a === b || (a !== "" && b !== "" && !isNaN(a) && !isNaN(b) && Number(a) === Number(b));
const isChanged = (el) => !same(entered(el), el.dataset.saved);
function put(el, value) {
  if (el.type === "checkbox") el.checked = value === "true";
  else el.value = value;
}

// Unsaved changes, counted live: the sticky bar says how many and which, each light's section
// says how many of its fields changed, and a changed field is marked.
function trackChanges(form) {
  const bar = document.getElementById("unsaved");
  const hadErrors = form.querySelector(".has-error") !== null;
  const update = () => {
    const changed = fieldsOf(form).filter(isChanged);
    for (const div of form.querySelectorAll(".field")) {
      div.classList.toggle("changed", changed.some((el) => div.contains(el)));
    }
    for (const group of form.querySelectorAll("details")) {
      const n = changed.filter((el) => group.contains(el)).length;
      const badge = group.querySelector(".changed-count");
      badge.hidden = n === 0;
      badge.textContent = `${n} changed`;
    }
    form.classList.toggle("dirty", changed.length > 0);
    const names = changed.map((el) => el.name.split(".").slice(-2).join(" "));
    bar.textContent = changed.length === 0
      ? (hadErrors ? "Nothing saved: fix the values marked in red." : "No unsaved changes.")
      : `${changed.length} unsaved change${changed.length > 1 ? "s" : ""}: ${names.join(", ")}`
        + (hadErrors ? " (fix the values marked in red)" : "");
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

// Drafts: a form's changed fields are kept in this tab (sessionStorage) when it is sent. If
// the login had ended, the console answers with the login page (nothing saved), which marks
// the draft to be put back; after logging in, the same form puts it back, NOT saved yet, and
// says so. Any other answer (saved, or shown again with errors) drops the draft.
const DRAFT = "station-draft:";
const draftKey = (form) => {
  const preset = form.querySelector('input[type=hidden][name="preset"]');
  return `${DRAFT}${form.getAttribute("action")}|${preset ? preset.value : ""}`;
};

function keepDraft(form) {
  const fields = {};
  for (const el of fieldsOf(form).filter(isChanged)) fields[el.name] = { was: el.dataset.saved, now: entered(el) };
  try {
    if (Object.keys(fields).length) sessionStorage.setItem(draftKey(form), JSON.stringify({ fields, at: Date.now() }));
    else sessionStorage.removeItem(draftKey(form));
  } catch (err) { /* storage full or off: the form is still sent */ }
}

function restoreDraft(form) {
  let draft = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(draftKey(form)) || "null");
    sessionStorage.removeItem(draftKey(form));
  } catch (err) { return; }
  if (!draft || !draft.pending) return;
  const back = [];
  const kept = [];
  for (const [name, { was, now }] of Object.entries(draft.fields || {})) {
    const el = form.elements.namedItem(name);
    if (!el || el.dataset === undefined || el.dataset.saved === undefined) continue;
    if (same(el.dataset.saved, was)) {
      put(el, now);
      back.push(el);
    } else if (!same(el.dataset.saved, now)) {
      kept.push(`${name} is now ${el.dataset.saved} (you had entered ${now})`);
    }
  }
  for (const el of back) {
    el.closest(".field")?.classList.add("restored");
    const group = el.closest("details");
    if (group) group.open = true;
  }
  const note = document.createElement("div");
  note.className = "banner";
  note.id = "draft-restored";
  note.setAttribute("role", "alert");
  note.textContent = `Your login had ended, so nothing was saved. What you had entered (${back.length} field${back.length === 1 ? "" : "s"}, marked) is back in the form but NOT saved yet: check it, then press Save.`;
  if (kept.length) {
    const p = document.createElement("p");
    p.textContent = `Not put back, because someone changed them meanwhile: ${kept.join("; ")}.`;
    note.append(p);
  }
  form.before(note);
  form.dispatchEvent(new Event("input"));
}

function loginEnded() {
  let drafts = 0;
  try {
    for (let i = 0; i < sessionStorage.length; i += 1) {
      const key = sessionStorage.key(i);
      if (!key.startsWith(DRAFT)) continue;
      const draft = JSON.parse(sessionStorage.getItem(key));
      draft.pending = true;
      sessionStorage.setItem(key, JSON.stringify(draft));
      drafts += 1;
    }
  } catch (err) { return; }
  if (drafts) {
    document.getElementById("draft-note").hidden = false;
    document.getElementById("no-draft-note").hidden = true;
  }
}

function camera() {
  const img = document.getElementById("snapshot");
  const frame = document.getElementById("roi-frame");
  const box = document.getElementById("roi-box");
  const roiInput = document.getElementById("camera.roi");
  const state = document.getElementById("snapshot-state");
  const roi = () => roiInput.value.split(",").map(Number);
  const draw = () => {
    const [l, t, r, b] = roi();
    Object.assign(box.style, { left: `${l * 100}%`, top: `${t * 100}%`,
      width: `${(r - l) * 100}%`, height: `${(b - t) * 100}%` });
  };
  draw();
  roiInput.addEventListener("input", draw);
  document.getElementById("snapshot-button").addEventListener("click", async () => {
    state.textContent = "Asking the station for a picture…";
    const response = await fetch("/camera/snapshot", { method: "POST", headers: { "X-CSRF-Token": csrf } });
    if (!response.ok) { state.textContent = await response.text(); return; }
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(await response.blob());
    state.textContent = "";
  });
  let start = null;
  const at = (e) => {
    const rect = frame.getBoundingClientRect();
    return [Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width)),
            Math.min(1, Math.max(0, (e.clientY - rect.top) / rect.height))];
  };
  frame.addEventListener("pointerdown", (e) => {
    e.preventDefault();  // no native image drag: the pointer draws the region
    start = at(e);
    frame.setPointerCapture(e.pointerId);
  });
  frame.addEventListener("pointermove", (e) => {
    if (!start) return;
    const [x, y] = at(e);
    const f = (v) => v.toFixed(3);
    roiInput.value = [Math.min(start[0], x), Math.min(start[1], y), Math.max(start[0], x), Math.max(start[1], y)].map(f).join(", ");
    draw();
  });
  frame.addEventListener("pointerup", () => { start = null; });
}

if (page === "live") liveTuning();
if (page === "mat") { mat(); calibrations(); }
if (page === "camera") camera();
if (document.getElementById("login-ended")) loginEnded();
for (const form of document.querySelectorAll("form[data-draft]")) {
  restoreDraft(form);
  form.addEventListener("submit", () => keepDraft(form));
}
for (const form of document.querySelectorAll("form[data-track]")) trackChanges(form);
