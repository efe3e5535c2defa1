// /m/load/: the load on board, each manifest with a QR code for a roadside control. The QR opens a
// signed read-only page valid for 30 minutes; the last answer is kept on the phone so the QR still
// shows offline while it is valid (an expired one says so).
import { hhmm, readOrSaved, requireToken } from "./app.js";

function item(load) {
  const section = document.getElementById("load-item").content.firstElementChild.cloneNode(true);
  section.dataset.number = load.number;
  section.querySelector(".number").textContent = load.number;
  const qr = section.querySelector(".qr");
  qr.src = load.qr;
  const expired = Date.parse(load.expires_at) < Date.now();
  qr.classList.toggle("expired", expired);
  section.querySelector(".expires").textContent = expired
    ? gettext("This QR code has expired: connect to the network and ask for new QR codes.")
    : interpolate(gettext("Valid until %s"), [hhmm(load.expires_at)]);
  section.querySelector(".destination").textContent = load.destination;
  section.querySelector(".plates").textContent = load.plates.join(", ") || "—";
  section.querySelector(".lines").replaceChildren(
    ...load.lines.map((line) => {
      const li = document.createElement("li");
      li.textContent = `${line.batch} · ${line.waste_code} ${line.waste_name} · ${line.quantity_kg} kg`;
      return li;
    }),
  );
  section.querySelector(".control").href = load.control_url;
  section.querySelector(".pdf").href = load.pdf_url;
  return section;
}

async function refresh() {
  const answer = await readOrSaved("trips/today/load/", gettext("No network, and this phone has no QR codes saved yet."));
  if (!answer) return;
  const note = document.getElementById("saved-note");
  note.hidden = !answer.offline;
  if (answer.offline) note.textContent = interpolate(gettext("Offline: QR codes as read at %s."), [hhmm(answer.savedAt)]);
  document.getElementById("loads").replaceChildren(...answer.results.map(item));
  document.getElementById("load-empty").hidden = answer.results.length > 0;
}

document.getElementById("refresh").addEventListener("click", refresh);
(async () => {
  if (!(await requireToken())) return;
  await refresh();
})();
