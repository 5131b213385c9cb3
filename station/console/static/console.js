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

function liveTuning() {
  const root = document.getElementById("live");
  stream((s) => {
    const c = s.counts || {};
    document.getElementById("live-counts").textContent =
      `${c.jumps ?? 0} jumps · ${Math.round(c.cadence_per_min ?? 0)}/min · streak ${c.streak ?? 0}`;
    for (const [fault, light] of Object.entries(s.lights || {})) {
      const el = root.querySelector(`[data-light="${fault}"]`);
      if (el) el.className = `light ${light}`;
    }
    for (const [fault, m] of Object.entries(s.metrics || {})) {
      const v = root.querySelector(`[data-value="${fault}"]`);
      if (!v) continue;
      v.textContent = m.value == null ? "–" : `${Number(m.value).toFixed(2)} ${m.unit || ""}`;
      const top = Math.max(m.fault * 1.5, m.value || 0, 1e-9);
      root.querySelector(`[data-bar="${fault}"]`).style.width = `${100 * (m.value || 0) / top}%`;
      root.querySelector(`[data-mark-warn="${fault}"]`).style.left = `${100 * m.warn / top}%`;
      root.querySelector(`[data-mark-fault="${fault}"]`).style.left = `${100 * m.fault / top}%`;
    }
  });
  const saveState = document.getElementById("save-state");
  for (const input of root.querySelectorAll("input[type=range]")) {
    const out = root.querySelector(`[data-out="${input.dataset.key}"]`);
    input.addEventListener("input", () => { out.textContent = String(Number(input.value)); });
    input.addEventListener("change", async () => {
      const response = await fetch("/api/set", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ key: input.dataset.key, value: input.value, version: root.dataset.version }),
      });
      // A login that ended (timeout, a console restart, a new password) answers 401 in plain
      // text: say so, rather than fail silently and leave the trainer thinking it was saved.
      const reply = await response.json().catch(() => ({}));
      if (reply.version) root.dataset.version = reply.version;
      const why = response.status === 401
        ? "not saved: your login has ended. Reload the page and log in again."
        : `not saved (error ${response.status}).`;
      saveState.textContent = `${input.dataset.key}: ${reply.message || why}`;
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
if (page === "mat") mat();
if (page === "camera") camera();
