// What the pages share: building elements, times, scores, the notice line,
// sighting cards and the sighting dialog (frame with the plate box drawn on it).

import { get, showImage } from "./api.js";

// el("div", {class: "x", onclick: f}, child, "text") — text always goes in as text.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});

// An ISO time from the API, in the viewer's local time.
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : timeFormat.format(d);
}

// A datetime-local input's value (local time) as ISO 8601 UTC, or "" when empty.
export function isoFromLocal(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

export function score(value) {
  return typeof value === "number" ? value.toFixed(3) : "–";
}

let noticeTimer = 0;

// One line under the header for errors and confirmations; errors stay until replaced.
export function notice(text, kind = "error") {
  const line = $("notice");
  line.textContent = text;
  line.className = `notice ${kind}`;
  line.hidden = !text;
  clearTimeout(noticeTimer);
  if (text && kind !== "error") noticeTimer = setTimeout(() => (line.hidden = true), 4000);
}

function scoreBar(value) {
  const pct = typeof value === "number" ? Math.max(0, Math.min(1, value)) * 100 : 0;
  return el("span", { class: "score-bar", title: `cosine ${score(value)}` },
    el("span", { style: `width:${pct.toFixed(0)}%` }));
}

// A card for one sighting (search result or past match); a click opens the dialog.
export function sightingCard(s) {
  const img = el("img", { class: "crop", alt: `plate crop of sighting ${s.id}`, loading: "lazy" });
  showImage(img, s.crop_url);
  const card = el("button", {
    type: "button", class: "card sighting-card", dataset: { sightingId: s.id },
    onclick: () => openSighting(s),
  },
  img,
  el("span", { class: "card-line" },
    el("strong", { class: "reading" }, s.reading || "(no reading)"),
    s.score !== null && s.score !== undefined ? el("span", { class: "score" }, score(s.score)) : null),
  s.score !== null && s.score !== undefined ? scoreBar(s.score) : null,
  el("span", { class: "card-line muted" },
    el("span", { class: "camera" }, s.camera),
    el("time", { datetime: s.seen_at }, when(s.seen_at))));
  return card;
}

// The plate box of a sighting as [x, y, w, h] — in whichever form the API gives it
// ({x,y,w,h}, [x,y,w,h] or box_x...) — or null when it gives none.
function boxOf(s) {
  const b = s.box ?? (s.box_w ? { x: s.box_x, y: s.box_y, w: s.box_w, h: s.box_h } : null);
  if (!b) return null;
  const v = Array.isArray(b) ? b : [b.x, b.y, b.w ?? b.width, b.h ?? b.height];
  return v.every((n) => typeof n === "number") && v[2] > 0 && v[3] > 0 ? v : null;
}

// The box as fractions of the frame. A box of fractions (all <= 1) is taken as it is; one
// in pixels is divided by the frame size the sighting names (the kept frame.jpg may be a
// smaller thumbnail of it), else by the size of the picture shown.
function fractionsOf(box, s, img) {
  if (box.every((n) => n <= 1)) return box;
  const [W, H] = Array.isArray(s.frame_size) ? s.frame_size : [img.naturalWidth, img.naturalHeight];
  if (!W || !H) return null;
  return [box[0] / W, box[1] / H, box[2] / W, box[3] / H];
}

function placeBox(img, s) {
  const box = boxOf(s);
  const f = box && fractionsOf(box, s, img);
  if (!f) return;
  const mark = $("sighting-box");
  // Percentages keep the box on the plate however the frame is scaled to the screen.
  Object.assign(mark.style, {
    left: `${100 * f[0]}%`, top: `${100 * f[1]}%`, width: `${100 * f[2]}%`, height: `${100 * f[3]}%`,
  });
  mark.hidden = false;
}

export async function openSighting(s) {
  const dialog = $("sighting-dialog");
  const frame = $("sighting-frame");
  const mark = $("sighting-box");
  mark.hidden = true;
  frame.removeAttribute("src");
  const facts = $("sighting-facts");
  facts.replaceChildren();
  const row = (k, v) => facts.append(el("dt", {}, k), el("dd", {}, v));
  row("Reading", s.reading || "(none)");
  if (s.score !== null && s.score !== undefined) row("Score", score(s.score));
  row("Camera", s.camera);
  row("Seen", when(s.seen_at));
  row("Sighting", `#${s.id}`);
  dialog.dataset.sightingId = s.id;
  if (!dialog.open) dialog.showModal();
  let detail = s;
  if (!boxOf(s)) {
    try {
      detail = await get(`/api/sightings/${s.id}`);
    } catch {
      detail = s;
    }
  }
  frame.onload = () => placeBox(frame, detail);
  await showImage(frame, s.frame_url);
  if (frame.classList.contains("missing")) row("Frame", "not kept for this sighting");
  else if (!boxOf(detail)) row("Plate box", "not given by the service");
}
