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
})();
