// The search page: by typed plate text (rendered by the service, shown beside the
// results), by '*' pattern on the reading, or by a dropped plate photo; filters for
// camera, time range and minimum score; results best first.

import { call, get, imageUrl, withQuery } from "./api.js";
import { $, el, isoFromLocal, notice, sightingCard } from "./ui.js";

let queryUrl = "";

function filters() {
  return {
    camera: $("search-camera").value,
    since: isoFromLocal($("search-since").value),
    until: isoFromLocal($("search-until").value),
    limit: 60,
  };
}

function minScore() {
  const v = parseFloat($("search-min-score").value);
  return Number.isFinite(v) ? v : -1;
}

function showQuery(url, caption) {
  if (queryUrl && queryUrl !== url) URL.revokeObjectURL(queryUrl);
  queryUrl = url;
  if (url) $("query-image").src = url;
  else $("query-image").removeAttribute("src");
  $("query-caption").textContent = caption;
  $("query-figure").hidden = !url;
}

function showResults(found, what, byScore = true) {
  const floor = minScore();
  const kept = byScore
    ? found.filter((s) => (s.score ?? -1) >= floor).sort((a, b) => b.score - a.score)
    : found;
  const grid = $("search-results");
  grid.replaceChildren(...kept.map(sightingCard));
  const hidden = found.length - kept.length;
  $("search-summary").textContent =
    `${kept.length} sighting${kept.length === 1 ? "" : "s"} for ${what}` +
    (hidden ? ` (${hidden} below score ${floor})` : "");
}

// '*' stands for any run of characters and has no picture: such a query is matched on
// the stored readings instead (as the watchlist does), newest first.
function patternRegex(text) {
  const body = text.toUpperCase().replace(/[^A-Z0-9?*]/g, "")
    .replace(/\?/g, ".").replace(/\*/g, ".*");
  return new RegExp(`^${body}$`);
}

async function searchPattern(text) {
  const rows = await get(withQuery("/api/sightings", { ...filters(), limit: 500 }));
  const re = patternRegex(text);
  showQuery("", "");
  showResults(rows.filter((s) => re.test((s.reading || "").toUpperCase())),
    `${text} (matched on the reading)`, false);
}

async function renderQuery(text) {
  try {
    showQuery(await imageUrl(withQuery("/api/render", { text })), `“${text}” as rendered`);
  } catch {
    // The render is a help, not the answer: results still show without it.
    showQuery("", "");
  }
}

export async function searchText(text) {
  text = text.trim();
  if (!text) return;
  $("search-button").disabled = true;
  try {
    if (text.includes("*")) return await searchPattern(text);
    const [found] = await Promise.all([
      get(withQuery("/api/sightings/search", { text, ...filters() })),
      renderQuery(text),
    ]);
    showResults(found, text);
    notice("");
  } catch (err) {
    notice(`Search for ${text}: ${err.message}`);
  } finally {
    $("search-button").disabled = false;
  }
}

export async function searchFile(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) {
    notice(`${file.name} is not an image (${file.type || "unknown type"})`);
    return;
  }
  const form = new FormData();
  form.append("image", file, file.name);
  showQuery(URL.createObjectURL(file), `photo ${file.name}`);
  try {
    const found = await call("POST", withQuery("/api/sightings/search/image", filters()), form);
    showResults(found, `photo ${file.name}`);
    notice("");
  } catch (err) {
    notice(`Search by photo ${file.name}: ${err.message}`);
  }
}

export async function loadCameraChoices() {
  const select = $("search-camera");
  const chosen = select.value;
  try {
    const cameras = await get("/api/cameras");
    select.replaceChildren(el("option", { value: "" }, "all cameras"),
      ...cameras.map((c) => el("option", { value: c.name }, c.name)));
    select.value = chosen;
  } catch {
    // The list stays as it was; the cameras page reports the error.
  }
}

export function setUpSearch() {
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    searchText($("search-text").value);
  });
  $("search-min-score").addEventListener("change", () => {
    if ($("search-text").value.trim()) searchText($("search-text").value);
  });
  $("search-file").addEventListener("change", (e) => searchFile(e.target.files[0]));
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    searchFile(e.dataTransfer.files[0]);
  });
}
