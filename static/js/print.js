// Any element with id="print-card" or class "js-print" opens the print dialog.
document.addEventListener("click", function (event) {
  var target = event.target.closest("#print-card, .js-print");
  if (target) { event.preventDefault(); window.print(); }
});
