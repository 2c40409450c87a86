// The watchlist page: list, add (showing the past sightings the new entry already
// matches), edit in place, remove with a second click to confirm.

import { call, get } from "./api.js";
import { $, el, notice, score, sightingCard, when } from "./ui.js";

function draftFrom(fields) {
  const threshold = fields.threshold.trim();
  const draft = {
    plate_text: fields.plate_text.trim(),
    label: fields.label.trim(),
    hours: fields.hours.trim() || null,
  };
  if (threshold !== "") draft.threshold = Number(threshold);
  return draft;
}

function showPast(entry, past) {
  $("watch-past").hidden = false;
  $("watch-past-title").textContent = past.length
    ? `${entry.plate_text}: ${past.length} past sighting${past.length === 1 ? "" : "s"} already match`
    : `${entry.plate_text}: no past sighting matches yet`;
  $("watch-past-results").replaceChildren(...past.map(sightingCard));
}

function input(name, value, attrs = {}) {
  return el("input", { name, value: value ?? "", "aria-label": name, ...attrs });
}

function editRow(entry, row) {
  const fields = {
    plate_text: input("plate_text", entry.plate_text, { maxlength: 40, required: true }),
    label: input("label", entry.label, { maxlength: 200 }),
    threshold: input("threshold", entry.threshold, {
      type: "number", min: -1, max: 1, step: "any",
    }),
    hours: input("hours", entry.hours, { maxlength: 20, placeholder: "all day" }),
  };
  const save = async () => {
    const values = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.value]));
    try {
      await call("PUT", `/api/watchlist/${entry.id}`, draftFrom(values));
      notice(`Saved ${values.plate_text}`, "ok");
      loadWatchlist();
    } catch (err) {
      notice(`Saving ${entry.plate_text}: ${err.message}`);
    }
  };
  row.replaceChildren(
    ...["plate_text", "label", "threshold", "hours"].map((k) => el("td", { "data-label": k }, fields[k])),
    el("td", {}, when(entry.created)),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "save", onclick: save }, "Save"),
      el("button", { type: "button", class: "ghost", onclick: () => loadWatchlist() }, "Cancel")));
  fields.plate_text.focus();
}

async function remove(entry, button) {
  // First click arms, second click removes: no modal dialog to get in the way.
  if (!button.classList.contains("armed")) {
    button.classList.add("armed");
    button.textContent = "Really remove?";
    setTimeout(() => {
      button.classList.remove("armed");
      button.textContent = "Remove";
    }, 4000);
    return;
  }
  try {
    await call("DELETE", `/api/watchlist/${entry.id}`);
    notice(`Removed ${entry.plate_text}`, "ok");
    loadWatchlist();
  } catch (err) {
    notice(`Removing ${entry.plate_text}: ${err.message}`);
  }
}

function entryRow(entry) {
  const row = el("tr", { dataset: { entryId: entry.id } });
  const removeButton = el("button", { type: "button", class: "danger" }, "Remove");
  removeButton.addEventListener("click", () => remove(entry, removeButton));
  row.append(
    el("td", { "data-label": "plate" }, el("strong", { class: "plate" }, entry.plate_text)),
    el("td", { "data-label": "label" }, entry.label),
    el("td", { "data-label": "threshold" }, score(entry.threshold)),
    el("td", { "data-label": "hours" }, entry.hours || "all day"),
    el("td", { "data-label": "added" }, when(entry.created)),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "ghost", onclick: () => editRow(entry, row) }, "Edit"),
      removeButton));
  return row;
}

export async function loadWatchlist() {
  try {
    const entries = await get("/api/watchlist");
    $("watch-rows").replaceChildren(...entries.map(entryRow));
    $("watch-empty").hidden = entries.length > 0;
  } catch (err) {
    notice(`Watchlist: ${err.message}`);
  }
}

export function setUpWatchlist() {
  $("watch-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    const values = Object.fromEntries(new FormData(form).entries());
    try {
      const created = await call("POST", "/api/watchlist", draftFrom(values));
      showPast(created.entry, created.past || []);
      notice(`Watching ${created.entry.plate_text}`, "ok");
      form.reset();
      loadWatchlist();
    } catch (err) {
      notice(`Adding ${values.plate_text}: ${err.message}`);
    }
  });
}
