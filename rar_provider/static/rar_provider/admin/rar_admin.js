/* rar_provider admin: say at once whether a JSON field parses; update the live consent preview;
   show a client grant only its API's types. The server repeats every check made here. */
(function () {
  "use strict";

  function checkJSON(textarea) {
    var status = document.getElementById(textarea.id + "_status");
    if (!status) return;
    try {
      JSON.parse(textarea.value || "null");
      status.textContent = status.dataset.valid;
      status.dataset.state = "valid";
      textarea.removeAttribute("aria-invalid");
    } catch (error) {
      status.textContent = status.dataset.invalid + " " + error.message;
      status.dataset.state = "invalid";
      textarea.setAttribute("aria-invalid", "true");
    }
  }

  function showTypesOf(select) {
    // The grant's row holds its API select and its checkboxes (name prefix "<prefix>-detail_types").
    var prefix = select.name.replace(/resource_server$/, "");
    var api = select.value;
    document.querySelectorAll('input[name="' + prefix + 'detail_types"][data-api]').forEach(function (box) {
      var row = box.closest("div");
      var mine = !api || box.dataset.api === api;
      row.hidden = !mine;
      if (!mine) box.checked = false;
    });
  }

  var timer = null;
  function updatePreview(textarea) {
    var frame = document.getElementById("rar-preview-frame");
    if (!frame) return;
    try { JSON.parse(textarea.value); } catch (error) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      frame.src = frame.dataset.base + "?detail=" + encodeURIComponent(textarea.value);
    }, 300);
  }

  function start() {
    document.querySelectorAll("textarea.rar-json-editor").forEach(function (textarea) {
      checkJSON(textarea);
      textarea.addEventListener("input", function () {
        checkJSON(textarea);
        if (textarea.id === "rar-preview-sample") updatePreview(textarea);
      });
    });
    document.querySelectorAll('select[name$="resource_server"]').forEach(showTypesOf);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches('select[name$="resource_server"]')) showTypesOf(target);
  });
  document.addEventListener("formset:added", function (event) {
    var row = event.target;
    if (row && row.querySelectorAll) row.querySelectorAll('select[name$="resource_server"]').forEach(showTypesOf);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
