// Signs this phone in: a device token from POST /api/v1/auth/token/, kept in IndexedDB.
import { api, ApiError, flash, flashClear, queueItems, showFieldErrors, syncQueue, tokenSet } from "./app.js";

const form = document.getElementById("login-form");

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  // Only a page of this app: never an address elsewhere.
  return next.startsWith("/m/") && !next.startsWith("//") ? next : JSON.parse(document.getElementById("phone-config").textContent).pages.round;
}

queueItems().then((items) => {
  document.getElementById("queue-kept").hidden = !items.some((item) => item.state === "waiting");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  flashClear();
  showFieldErrors(form, null);
  const values = Object.fromEntries(new FormData(form));
  const missing = {};
  for (const name of ["username", "password"]) {
    if (!values[name]) missing[name] = [gettext("This field is required.")];
  }
  if (Object.keys(missing).length) {
    showFieldErrors(form, { fields: missing });
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api("auth/token/", { method: "POST", body: values, auth: false });
    await tokenSet(answer.token);
    await syncQueue(); // scans kept while signed out go up now
    location.assign(nextPage());
  } catch (exc) {
    if (exc instanceof ApiError) {
      showFieldErrors(form, exc);
      flash(exc.message);
    } else {
      flash(gettext("No network: signing in needs one, once."));
    }
  } finally {
    button.disabled = false;
  }
});
