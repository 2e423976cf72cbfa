// Fills the visit form's hidden latitude/longitude when the representative ticks "记录位置".
// The form works without it: no JavaScript, no location.
(function () {
  "use strict";
  var box = document.getElementById("use-location");
  if (!box || !("geolocation" in navigator)) {
    return;
  }
  var lat = document.getElementById("id_latitude");
  var lng = document.getElementById("id_longitude");
  var status = document.getElementById("location-status");
  box.closest(".location-row").hidden = false;
  box.addEventListener("change", function () {
    if (!box.checked) {
      lat.value = "";
      lng.value = "";
      status.textContent = "";
      return;
    }
    status.textContent = status.dataset.waiting;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lng.value = position.coords.longitude.toFixed(6);
        status.textContent = status.dataset.done;
      },
      function () {
        box.checked = false;
        status.textContent = status.dataset.failed;
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
    );
  });
})();
