// The page's entry point: sign-in with an API token, the four views behind #hash links,
// and what each view loads when it is shown.

import { ApiError, get, setToken, token } from "./api.js";
import { connectFeed, disconnectFeed, loadAlerts, setUpAlerts } from "./alerts.js";
import { startCameras, stopCameras } from "./cameras.js";
import { loadCameraChoices, setUpSearch } from "./search.js";
import { $, notice } from "./ui.js";
import { loadWatchlist, setUpWatchlist } from "./watchlist.js";

const VIEWS = ["search", "watchlist", "alerts", "cameras"];
let signedIn = false;

function currentView() {
  const name = location.hash.replace("#", "");
  return VIEWS.includes(name) ? name : "search";
}

function showView() {
  const view = currentView();
  for (const section of document.querySelectorAll("section.view")) {
    section.hidden = section.dataset.view !== view;
  }
  for (const link of document.querySelectorAll(".tabs a")) {
    link.classList.toggle("active", link.dataset.view === view);
  }
  document.body.dataset.view = view;
  if (view !== "cameras") stopCameras();
  if (!signedIn) return;
  if (view === "search") loadCameraChoices();
  if (view === "watchlist") loadWatchlist();
  if (view === "alerts") loadAlerts();
  if (view === "cameras") startCameras();
}

function showSignedIn(yes) {
  signedIn = yes;
  document.body.classList.toggle("signed-out", !yes);
  $("token-input").hidden = yes;
  $("login-button").hidden = yes;
  $("logout-button").hidden = !yes || !token();
}

// Signed in when the API answers; a service with tokens turned off answers without one.
async function trySignIn() {
  try {
    await get("/api/cameras");
  } catch (err) {
    showSignedIn(false);
    disconnectFeed();
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      notice(token()
        ? `The token was refused: ${err.message}`
        : "Sign in with an API token (platewatch token create NAME --role admin).");
      $("token-input").focus();
    } else {
      notice(err.message);
    }
    return;
  }
  showSignedIn(true);
  notice("");
  connectFeed();
  showView();
}

function setUpLogin() {
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    setToken($("token-input").value);
    $("token-input").value = "";
    trySignIn();
  });
  $("logout-button").addEventListener("click", () => {
    setToken("");
    trySignIn();
  });
}

setUpLogin();
setUpSearch();
setUpWatchlist();
setUpAlerts();
window.addEventListener("hashchange", showView);
window.addEventListener("platewatch:unauthorized", () => {
  if (signedIn) trySignIn();
});
showView();
trySignIn();
