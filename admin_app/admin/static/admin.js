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

  // SQLAdmin submits the search a second after any keyup in its box, so tabbing through the
  // box (the Tab's keyup lands there) reloaded the list and lost the ticked rows. Only a keyup
  // that changed the text gets through to it.
  var searchBox = document.getElementById("search-input");
  if (searchBox) {
    var searched = searchBox.value;
    document.addEventListener("keyup", function (event) {
      if (event.target !== searchBox) { return; }
      if (searchBox.value === searched) { event.stopPropagation(); return; }
      searched = searchBox.value;
    }, true);
  }

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

  // Keyboard, on a list: "/" search, j/k move the row cursor, x ticks its box, Enter opens
  // it, e edits it, ? shows these. Keys typed into a field are left alone (Escape leaves it).
  var table = document.querySelector("table.list-table");
  var help = document.getElementById("shortcuts-help");
  var cursor = -1;

  function listRows() {
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr")) : [];
  }

  function moveTo(index) {
    var rows = listRows();
    if (!rows.length) { return; }
    cursor = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("row-cursor", i === cursor); });
    rows[cursor].scrollIntoView({ block: "nearest" });
  }

  function inCursorRow(selector) {
    var rows = listRows();
    return cursor >= 0 && rows[cursor] ? rows[cursor].querySelector(selector) : null;
  }

  function toggleHelp() {
    if (help) { help.hidden = !help.hidden; }
  }

  var helpButton = document.getElementById("shortcuts-button");
  if (helpButton) { helpButton.addEventListener("click", toggleHelp); }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var link = null;
    switch (event.key) {
      case "/":
        var search = document.getElementById("search-input");
        if (search) { event.preventDefault(); search.focus(); search.select(); }
        return;
      case "?":
        if (help) { event.preventDefault(); toggleHelp(); }
        return;
      case "Escape":
        if (help && !help.hidden) { help.hidden = true; }
        return;
      case "j":
        if (table) { event.preventDefault(); moveTo(cursor + 1); }
        return;
      case "k":
        if (table) { event.preventDefault(); moveTo(cursor - 1); }
        return;
      case "x":
        link = inCursorRow("input.select-box");
        if (link) { event.preventDefault(); link.click(); }
        return;
      case "Enter":
        // Enter on a focused link or button does what that control does.
        if (target && target.closest && target.closest("a, button, [role='button']")) { return; }
        link = inCursorRow("a[href*='/details/']");
        break;
      case "e":
        link = inCursorRow("a[href*='/edit/']");
        break;
      default:
        return;
    }
    if (link) { event.preventDefault(); window.location.href = link.href; }
  });

  // A refused form: focus its error summary (role="alert"), so a screen reader reads it and
  // Tab goes on to its links, each leading to a field.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
