// The point picker (templates/web/components/point_picker.html): a click or tap on the map sets the
// point, "use my location" asks the browser's geolocation, and the typed longitude/latitude inputs
// stay the fallback: every way of setting the point moves the marker and fills the inputs. The
// picker's data-point attribute holds "lon,lat" of the marker (the browser tests read it).
(function () {
  "use strict";

  const DIGITS = 6; // about 0.1 m: finer than any phone's fix

  function initPicker(root) {
    if (root.dataset.pickerReady) return;
    const element = root.querySelector("[data-map]");
    const map = element && element._map;
    const lon = document.getElementById(root.dataset.lon);
    const lat = document.getElementById(root.dataset.lat);
    if (!map || !lon || !lat) return;
    root.dataset.pickerReady = "1";
    const status = root.querySelector("[data-picker-status]");
    const locate = root.querySelector("[data-locate]");
    let marker = null;

    function say(text) { if (status) status.textContent = text; }

    function place(lngLat, { fill = true, fly = false } = {}) {
      if (!marker) marker = new maplibregl.Marker({ color: "#d92d20" }).setLngLat(lngLat).addTo(map);
      else marker.setLngLat(lngLat);
      if (fill) {
        lon.value = lngLat.lng.toFixed(DIGITS);
        lat.value = lngLat.lat.toFixed(DIGITS);
      }
      // Brought into view only when outside it: the reporter keeps the map where they left it.
      if (fly && !map.getBounds().contains(lngLat)) map.easeTo({ center: lngLat });
      root.dataset.point = lngLat.lng.toFixed(DIGITS) + "," + lngLat.lat.toFixed(DIGITS);
    }

    function typed() {
      const x = parseFloat(lon.value), y = parseFloat(lat.value);
      if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x) > 180 || Math.abs(y) > 90) return;
      place({ lng: x, lat: y }, { fill: false, fly: true });
    }

    map.on("click", (event) => { place(event.lngLat); say(gettext("Point set on the map.")); });
    lon.addEventListener("change", typed);
    lat.addEventListener("change", typed);
    if (lon.value && lat.value) typed(); // the form came back with an error: show what was sent

    if (!("geolocation" in navigator)) {
      locate.hidden = true;
      return;
    }
    locate.addEventListener("click", () => {
      say(gettext("Finding your location…"));
      navigator.geolocation.getCurrentPosition(
        (position) => {
          place({ lng: position.coords.longitude, lat: position.coords.latitude }, { fly: true });
          say(interpolate(gettext("Your location, within about %s m."), [Math.round(position.coords.accuracy)]));
        },
        () => say(gettext("Your location is not available: click the map or type the coordinates.")),
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    });
  }

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("[data-point-picker]").forEach(initPicker));
})();
