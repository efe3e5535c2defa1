// /m/sign/?manifest=<number>: signatures at the truck. The generator's staff sign as consignor on the
// driver's phone with their organisation's PIN (locked after five wrong PINs, by the server); then the
// driver signs as carrier, naming the vehicle of today's round. Signing needs the network: a PIN is
// checked by the server, never on the phone.
import { api, ApiError, flash, flashClear, OfflineError, requireToken, savedRead, showFieldErrors } from "./app.js";

const number = new URLSearchParams(location.search).get("manifest") || "";
const consignorForm = document.getElementById("consignor-form");
const carrierForm = document.getElementById("carrier-form");
let plate = null;

function text(selector, value) {
  document.querySelector(selector).textContent = value;
}

async function roundPlate() {
  // The vehicle of today's round, as last read (the round page keeps it).
  let trips = await savedRead("trips/today/");
  if (!trips) {
    try {
      trips = await api("trips/today/", { cache: true });
    } catch (exc) {
      return null;
    }
  }
  const trip = (trips.results || []).find((t) => t.stops.some((s) => s.manifest && s.manifest.number === number));
  return trip ? trip.plate : (trips.results || [])[0]?.plate || null;
}

function render(manifest) {
  document.getElementById("manifest").hidden = false;
  text("#manifest-number", manifest.number);
  text("#manifest-consignor", `${manifest.names.consignor} · ${manifest.names.from_site}`);
  text("#manifest-destination", `${manifest.names.receiver} · ${manifest.names.to_site}`);
  text("#manifest-status", manifest.status_label || manifest.status);
  document.getElementById("manifest-lines").replaceChildren(
    ...manifest.lines.map((line) => {
      const li = document.createElement("li");
      li.textContent = `${line.batch} · ${line.waste_code} ${line.waste_name} · ${line.quantity_kg} kg`;
      return li;
    }),
  );
  const consignorOpen = !manifest.consignor_signed_at;
  const carrierOpen = !consignorOpen && manifest.carriers.some((c) => !c.signed_at);
  consignorForm.hidden = !consignorOpen;
  carrierForm.hidden = !carrierOpen;
  document.getElementById("all-signed").hidden = consignorOpen || carrierOpen;
  if (consignorOpen) {
    const select = document.getElementById("signer");
    const current = select.value;
    select.replaceChildren(
      ...manifest.pin_signers.map((s) => {
        const option = document.createElement("option");
        option.value = s.username;
        option.textContent = s.name === s.username ? s.name : `${s.name} (${s.username})`;
        return option;
      }),
    );
    if (current) select.value = current;
    if (!manifest.pin_signers.length) {
      flash(gettext("No member of the consignor can sign with a PIN (none set, or locked). The consignor can sign in the web interface."), "warning");
    }
  }
  text("#carrier-vehicle", plate ? interpolate(gettext("Vehicle: %s"), [plate]) : gettext("Vehicle: the one of today's round"));
}

async function load() {
  let manifest;
  try {
    manifest = await api(`manifests/${encodeURIComponent(number)}/`, { cache: true });
  } catch (exc) {
    if (exc instanceof ApiError || exc instanceof OfflineError) {
      flash(exc.message);
      return null;
    }
    throw exc;
  }
  const note = document.getElementById("saved-note");
  note.hidden = !manifest.offline;
  if (manifest.offline) note.textContent = gettext("Offline: signing needs the network. This is the manifest as last read.");
  render(manifest);
  return manifest;
}

async function sign(form, body, done) {
  form.dataset.busy = "1"; // until the manifest is read again (tests wait for it too)
  flashClear();
  showFieldErrors(form, null);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api(`manifests/${encodeURIComponent(number)}/sign/`, { method: "POST", body });
    flash(done, "ok");
  } catch (exc) {
    if (exc instanceof OfflineError) {
      flash(gettext("No network: signing needs the network. Nothing was signed."), "warning");
    } else if (exc instanceof ApiError) {
      showFieldErrors(form, exc);
      flash(exc.message);
    } else {
      throw exc;
    }
  } finally {
    button.disabled = false;
  }
  await load();
  delete form.dataset.busy;
}

consignorForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const signer = document.getElementById("signer").value;
  const input = document.getElementById("pin");
  const pin = input.value.trim();
  input.value = ""; // a PIN is typed for one attempt only
  if (!/^\d{4,8}$/.test(pin)) {
    showFieldErrors(consignorForm, { fields: { pin: [gettext("The PIN is 4 to 8 digits.")] } });
    return;
  }
  sign(consignorForm, { role: "consignor", signer, pin }, gettext("The consignor has signed."));
});

carrierForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { role: "carrier" };
  if (plate) body.vehicle = plate;
  sign(carrierForm, body, gettext("You have signed as carrier."));
});

(async () => {
  if (!(await requireToken())) return;
  if (!number) {
    flash(gettext("Open this page from a stop of today's round."));
    return;
  }
  plate = await roundPlate();
  await load();
})();
