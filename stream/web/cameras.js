// The cameras page: status (up, reconnecting, down...), latest frame, frames per second
// and drops, refreshed every few seconds while the page is shown.

import { get, showImage } from "./api.js";
import { $, el, notice, when } from "./ui.js";

const REFRESH_MS = 2000;
let timer = 0;
// name -> {received, at}: frames per second is the change in frames_received between polls.
const previous = new Map();

function framesPerSecond(camera, now) {
  const before = previous.get(camera.name);
  previous.set(camera.name, { received: camera.frames_received, at: now });
  if (!before || now <= before.at) return null;
  return Math.max(0, camera.frames_received - before.received) / ((now - before.at) / 1000);
}

function stat(name, value) {
  return el("div", { class: "stat" }, el("span", { class: "muted" }, name), el("strong", { class: name }, value));
}

function cameraCard(camera, fps, card) {
  card = card || el("article", { class: "card camera-card", dataset: { camera: camera.name } },
    el("img", { class: "frame", alt: `latest frame of ${camera.name}` }),
    el("div", { class: "camera-body" }));
  const body = card.querySelector(".camera-body");
  body.replaceChildren(...[
    el("div", { class: "card-line" },
      el("strong", {}, camera.name),
      el("span", { class: "status", dataset: { status: camera.status } }, camera.status)),
    el("div", { class: "muted" }, `since ${when(camera.since)}`),
    el("div", { class: "stats" },
      stat("fps", fps === null ? "…" : fps.toFixed(1)),
      stat("received", camera.frames_received),
      stat("dropped", camera.frames_dropped),
      stat("queue", camera.queue_depth),
      stat("failures", camera.failures)),
    camera.last_error ? el("div", { class: "error-text" }, camera.last_error) : null,
  ].filter(Boolean));
  showImage(card.querySelector("img"), `/api/cameras/${encodeURIComponent(camera.name)}/frame.jpg`);
  return card;
}

export async function loadCameras() {
  try {
    const cameras = await get("/api/cameras");
    const now = performance.now();
    const grid = $("camera-grid");
    const cards = new Map([...grid.children].map((c) => [c.dataset.camera, c]));
    grid.replaceChildren(...cameras.map((c) => cameraCard(c, framesPerSecond(c, now), cards.get(c.name))));
    $("cameras-empty").hidden = cameras.length > 0;
  } catch (err) {
    notice(`Cameras: ${err.message}`);
  }
}

export function startCameras() {
  stopCameras();
  loadCameras();
  timer = setInterval(loadCameras, REFRESH_MS);
}

export function stopCameras() {
  clearInterval(timer);
  timer = 0;
}
