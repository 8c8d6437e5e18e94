// Small progressive enhancements for the admin; the pages work without them.
(function () {
  "use strict";

  // Logging out changes data, so it is a POST: turn the sidebar's logout link into one.
  function postTo(url) {
    var form = document.createElement("form");
    form.method = "POST";
    form.action = url;
    document.body.appendChild(form);
    form.submit();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href$='/logout']");
    if (link) {
      event.preventDefault();
      postTo(link.href);
    }
  });

  // Bulk actions open a confirmation page. SQLAdmin's own handler sends only the selected
  // ids; this one also passes the list's search and filters, so the page can offer
  // "all N matching". It runs in the capture phase, before SQLAdmin's handler.
  function selectedIds() {
    var ids = [];
    document.querySelectorAll("input.select-box:checked").forEach(function (box) {
      var hidden = box.parentElement.querySelector("input[type='hidden']");
      if (hidden) {
        ids.push(hidden.value);
      }
    });
    return ids;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[id^='action-custom-'][data-url]");
    if (!link || link.id.indexOf("action-custom-modal-") === 0) {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    params.delete("error");
    var ids = selectedIds();
    if (ids.length) {
      params.set("pks", ids.join(","));
    }
    var query = params.toString();
    window.location.href = link.getAttribute("data-url") + (query ? "?" + query : "");
  }, true);

  // The filter panel stays as staff left it, open or closed, from page to page.
  var panel = document.getElementById("filter-panel");
  if (panel) {
    var key = "admin.filters-open";
    var toggle = document.getElementById("filters-toggle");
    var store = null;
    try { store = window.localStorage; } catch (e) { store = null; }
    if (store && store.getItem(key) === "1") {
      panel.classList.add("show");
      if (toggle) { toggle.setAttribute("aria-expanded", "true"); }
    }
    panel.addEventListener("show.bs.collapse", function () { if (store) { store.setItem(key, "1"); } });
    panel.addEventListener("hide.bs.collapse", function () { if (store) { store.setItem(key, "0"); } });
  }
})();
