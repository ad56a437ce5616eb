// Herald admin panel: the little JavaScript the pages use. Every page works
// without it; this only adds copying to the clipboard, live refresh of
// delivery logs, Markdown previews, hiding attribute options that do not
// apply to the chosen type, and upload progress in the media library.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Copy buttons: data-copy names the element whose value (or text) is
  // copied.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function setupCopy(button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      var text = "value" in source ? source.value : source.textContent;
      var label = button.textContent;
      copyText(text).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Copy failed";
      });
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  }

  // Live regions: an element with data-live and an id is fetched again
  // every two seconds while its data-pending is "true", and replaced by the
  // element with the same id in the fresh page.
  function setupLive(el) {
    var id = el.id;
    var timer = setInterval(function () {
      var current = document.getElementById(id);
      if (!current || current.getAttribute("data-pending") !== "true") {
        clearInterval(timer);
        return;
      }
      if (document.hidden) {
        return;
      }
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (resp) {
          if (!resp.ok || resp.redirected) {
            throw new Error("refresh answered " + resp.status);
          }
          return resp.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(id);
          var now = document.getElementById(id);
          if (fresh && now) {
            now.replaceWith(document.importNode(fresh, true));
          }
        })
        .catch(function () { clearInterval(timer); });
    }, 2000);
  }

  // Markdown previews: a details element with data-preview-for (a textarea
  // id) and data-endpoint renders the textarea's current text when opened.
  function setupPreview(details) {
    details.addEventListener("toggle", function () {
      if (!details.open) {
        return;
      }
      var area = document.getElementById(details.getAttribute("data-preview-for"));
      var out = details.querySelector(".preview");
      if (!area || !out) {
        return;
      }
      var body = new URLSearchParams();
      body.set("text", area.value);
      fetch(details.getAttribute("data-endpoint"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken() },
        body: body
      })
        .then(function (resp) {
          if (!resp.ok) {
            throw new Error("preview answered " + resp.status);
          }
          return resp.text();
        })
        .then(function (html) {
          // The server escapes the text and builds only known elements.
          out.innerHTML = html;
        })
        .catch(function () {
          out.textContent = "The preview could not be loaded.";
        });
    });
  }

  // Attribute rows of the content-type builder: options marked with
  // data-types show only for the listed attribute types.
  function setupAttribute(select) {
    var row = select.closest(".attr");
    function apply() {
      row.querySelectorAll("[data-types]").forEach(function (el) {
        var types = el.getAttribute("data-types").split(" ");
        el.hidden = types.indexOf(select.value) < 0;
      });
    }
    select.addEventListener("change", apply);
    apply();
  }

  // The media library's upload form: sent with XMLHttpRequest so that a
  // progress bar can follow the upload; the answer is the library again
  // (after the redirect) or an error page, whose heading is shown.
  function setupUpload(form) {
    var bar = form.querySelector("[data-upload-progress]");
    var status = form.querySelector("[data-upload-status]");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var xhr = new XMLHttpRequest();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      status.textContent = "Uploading…";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          window.location.assign("/admin/media");
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var reason = doc.querySelector("main .card p");
        status.textContent = "Upload failed: " +
          (reason ? reason.textContent : "the server answered " + xhr.status);
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        status.textContent = "Upload failed: the connection was lost.";
        button.disabled = false;
      });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.send(new FormData(form));
    });
  }

  function init() {
    document.querySelectorAll("[data-copy]").forEach(setupCopy);
    document.querySelectorAll("[data-live][id]").forEach(setupLive);
    document.querySelectorAll("details[data-preview-for]").forEach(setupPreview);
    document.querySelectorAll("select[data-attr-type]").forEach(setupAttribute);
    document.querySelectorAll("form[data-upload]").forEach(setupUpload);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
