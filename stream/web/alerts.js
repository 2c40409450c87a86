// The alerts page: the newest alerts, then each new one as the service's SSE stream
// sends it (no reload), with the crop, the watchlist entry matched and the score;
// acknowledge marks an alert as seen by a person.

import { call, eventStreamUrl, get, showImage, withQuery } from "./api.js";
import { $, el, notice, score, when } from "./ui.js";

let source = null;
let retryTimer = 0;
const shown = new Map(); // alert id -> its card, so the stream never shows one twice

function setFeedState(state) {
  const pill = $("feed-state");
  pill.textContent = state;
  pill.dataset.state = state;
}

function updateBadge() {
  const open = [...shown.values()].filter((c) => !c.classList.contains("acked")).length;
  const badge = $("alert-badge");
  badge.textContent = String(open);
  badge.hidden = open === 0;
  $("alerts-empty").hidden = shown.size > 0;
}

function markAcked(card, alert) {
  card.classList.add("acked");
  const slot = card.querySelector(".ack-slot");
  slot.replaceChildren(el("span", { class: "muted" }, `acknowledged ${when(alert.acknowledged_at)}`));
  updateBadge();
}

async function acknowledge(alert, card) {
  try {
    markAcked(card, await call("POST", `/api/alerts/${alert.id}/ack`));
  } catch (err) {
    notice(`Acknowledging alert ${alert.id}: ${err.message}`);
  }
}

function alertCard(alert) {
  const img = el("img", { class: "crop", alt: `plate crop of alert ${alert.id}` });
  showImage(img, `/api/alerts/${alert.id}/crop.jpg`); // kept with the alert: shown before its sighting is stored
  const card = el("article", { class: "card alert-card", dataset: { alertId: alert.id } });
  card.append(
    img,
    el("div", { class: "alert-body" },
      el("div", { class: "card-line" },
        el("strong", { class: "entry" }, alert.plate_text),
        el("span", { class: "score" }, score(alert.score))),
      alert.label ? el("div", { class: "label" }, alert.label) : null,
      el("div", { class: "muted" }, `read ${alert.reading || "(nothing)"} · ${alert.method}`),
      el("div", { class: "muted" },
        el("span", { class: "camera" }, alert.camera), " · ",
        el("time", { datetime: alert.seen_at }, when(alert.seen_at))),
      el("div", { class: "ack-slot" },
        el("button", { type: "button", class: "ack", onclick: () => acknowledge(alert, card) },
          "Acknowledge"))));
  if (alert.acknowledged_at) markAcked(card, alert);
  return card;
}

function place(alert, isNew) {
  if (shown.has(alert.id)) return;
  if ($("alerts-unacked").checked && alert.acknowledged_at) return;
  const card = alertCard(alert);
  shown.set(alert.id, card);
  const feed = $("alert-feed");
  if (isNew) {
    card.classList.add("fresh");
    feed.prepend(card);
  } else {
    feed.append(card);
  }
  updateBadge();
}

export async function loadAlerts() {
  try {
    const unacknowledged = $("alerts-unacked").checked || undefined;
    const alerts = await get(withQuery("/api/alerts", { limit: 50, unacknowledged }));
    shown.clear();
    $("alert-feed").replaceChildren();
    for (const a of alerts) place(a, false);
    updateBadge();
  } catch (err) {
    notice(`Alerts: ${err.message}`);
  }
}

export function connectFeed() {
  disconnectFeed();
  setFeedState("connecting");
  source = new EventSource(eventStreamUrl("/api/alerts/stream"));
  source.addEventListener("ready", () => {
    setFeedState("live");
    // Alerts raised while the stream was down are in the list; the stream brings the rest.
    loadAlerts();
  });
  source.addEventListener("alert", (e) => place(JSON.parse(e.data), true));
  source.addEventListener("error", () => {
    if (source && source.readyState === EventSource.CLOSED) {
      // Refused (bad token) or the service went away: try again later, not in a loop.
      setFeedState("offline");
      source = null;
      retryTimer = setTimeout(connectFeed, 5000);
    } else {
      setFeedState("connecting");
    }
  });
}

export function disconnectFeed() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  setFeedState("offline");
}

export function setUpAlerts() {
  $("alerts-unacked").addEventListener("change", loadAlerts);
}
