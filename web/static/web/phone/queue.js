// /m/queue/: what waits on this phone and what the server answered for each scan.
import { api, ApiError, dismiss, flash, queueItems, requireToken, syncQueue, tokenClear, toLogin } from "./app.js";

const list = document.getElementById("queue");
const template = document.getElementById("queue-item");

const ACTIONS = {
  pickup: () => gettext("Pickup"),
  dropoff: () => gettext("Drop-off"),
  refuse: () => gettext("Refusal"),
  arrived: () => gettext("On site at the incident"),
  incident_done: () => gettext("Done at the incident"),
};

function answerText(item) {
  if (item.state === "waiting") return gettext("Waiting to upload");
  if (item.state === "refused") return interpolate(gettext("Refused: %s"), [item.answer.error.message]);
  return item.answer.status === "duplicate" ? gettext("Already uploaded (not written twice)") : gettext("Recorded");
}

async function render() {
  const items = await queueItems();
  const order = { refused: 0, waiting: 1, done: 2 };
  items.sort((a, b) => order[a.state] - order[b.state] || b.queuedAt.localeCompare(a.queuedAt));
  list.replaceChildren(
    ...items.map((item) => {
      const li = template.content.firstElementChild.cloneNode(true);
      li.dataset.state = item.state;
      li.dataset.key = item.key;
      const when = new Date(item.queuedAt).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
      li.querySelector(".what").textContent = `${when} · ${(ACTIONS[item.summary.action] || (() => item.summary.action))()} · ${item.summary.code}`;
      li.querySelector(".answer").textContent = answerText(item);
      const button = li.querySelector(".dismiss");
      button.hidden = item.state !== "refused";
      button.addEventListener("click", async () => {
        await dismiss(item.key);
        await render();
      });
      return li;
    }),
  );
  const waiting = items.filter((item) => item.state === "waiting").length;
  document.getElementById("waiting-count").textContent = String(waiting);
  document.getElementById("queue-empty").hidden = items.length > 0;
}

document.getElementById("send-now").addEventListener("click", async () => {
  if (!navigator.onLine) {
    flash(gettext("No network: the scans stay on this phone and upload when it is back."), "warning");
    return;
  }
  await syncQueue();
  await render();
});

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await api("auth/token/revoke/", { method: "POST" }); // the token dies on the server too
  } catch (exc) {
    if (exc instanceof ApiError && exc.status !== 401) {
      flash(exc.message);
      return;
    }
    // offline or already revoked: forgetting it here is enough to sign this phone out
  }
  await tokenClear();
  document.dispatchEvent(new CustomEvent("signed-out")); // track.js stops sharing the position at once
  toLogin();
});

document.addEventListener("queue-changed", render);
(async () => {
  if (!(await requireToken())) return;
  await render();
})();
