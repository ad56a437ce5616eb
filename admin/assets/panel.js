// Herald admin panel: the little JavaScript the pages use. Every page works
// without it; this only adds copying to the clipboard, live refresh of
// delivery logs, Markdown previews, hiding attribute options that do not
// apply to the chosen type, upload progress in the media library, and
// searchable pickers for relation and media fields.
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
  // progress bar can follow the upload. X-Herald-Upload asks the server for
  // 204 instead of a redirect (which XMLHttpRequest would follow, taking
  // the flash message), and the script then loads the library; an error
  // page's reason is shown in the status line.
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
        var why = reason ? reason.textContent : "the server answered " + xhr.status;
        if (!reason && xhr.status === 413) {
          // The server refuses a body over the limit before any handler
          // runs, in plain text.
          why = "the upload is larger than the limit shown above.";
        }
        status.textContent = "Upload failed: " + why;
        bar.hidden = true;
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        status.textContent = "Upload failed: the connection was lost.";
        bar.hidden = true;
        button.disabled = false;
      });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("X-Herald-Upload", "progress");
      xhr.send(new FormData(form));
    });
  }

  // el creates an element with a class and text.
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text) {
      e.textContent = text;
    }
    return e;
  }

  // Relation and media pickers. A fieldset with data-picker lists its
  // chosen targets ([data-pick] items with data-id, data-label, data-hint,
  // data-thumb) and holds, for use without the script, a text input of ids
  // ([data-nojs]). The script replaces that input with a Remove button on
  // each chosen target and a search panel that asks data-search (JSON:
  // {data: [{id, label, hint, thumb}], more}) for targets to add, or to
  // put in the place of the one chosen. The form posts data-name once per
  // chosen id, and once empty, so that removing every target clears the
  // field.
  function setupPicker(box) {
    var name = box.getAttribute("data-name");
    var many = box.getAttribute("data-many") === "true";
    var isMedia = box.getAttribute("data-picker") === "media";
    var search = box.getAttribute("data-search");
    var target = box.getAttribute("data-target");
    var list = box.querySelector("[data-picks]");
    var chosen = [];
    box.querySelectorAll("[data-pick]").forEach(function (li) {
      chosen.push({
        id: li.getAttribute("data-id"), label: li.getAttribute("data-label"),
        hint: li.getAttribute("data-hint"), thumb: li.getAttribute("data-thumb")
      });
    });
    box.querySelectorAll("[data-nojs]").forEach(function (e) { e.remove(); });

    var blank = el("input");
    blank.type = "hidden";
    blank.name = name;
    blank.value = "";
    list.after(blank);

    var open = el("button", "secondary small picker-open");
    open.type = "button";
    open.setAttribute("aria-expanded", "false");
    var panel = el("div", "picker-panel");
    panel.id = box.id + "-panel";
    panel.hidden = true;
    open.setAttribute("aria-controls", panel.id);
    var query = el("input");
    query.type = "search";
    query.autocomplete = "off";
    query.setAttribute("aria-label",
      isMedia ? "Search files by name" : "Search " + target + " entries");
    query.placeholder = isMedia ? "Search files by name" : "Search " + target;
    var status = el("p", "hint");
    status.setAttribute("role", "status");
    // note announces changes to the chosen targets, with the panel closed.
    var note = el("p", "visually-hidden");
    note.setAttribute("role", "status");
    var results = el("ul", isMedia ? "picker-results picker-grid" : "picker-results");
    var buttons = el("div", "actions");
    var moreButton = el("button", "secondary small", "Show more");
    moreButton.type = "button";
    moreButton.hidden = true;
    var closeButton = el("button", "secondary small", "Done");
    closeButton.type = "button";
    buttons.append(moreButton, closeButton);
    panel.append(query, status, results, buttons);
    blank.after(open, panel, note);
    if (!search) {
      open.hidden = true;
    }

    function isChosen(id) {
      return chosen.some(function (c) { return c.id === id; });
    }

    function thumb(item) {
      var img = el("img", "pick-thumb");
      img.src = item.thumb;
      img.alt = "";
      return img;
    }

    function describe(item) {
      var text = el("span", "pick-text");
      text.append(el("span", "pick-label", item.label || item.id));
      if (item.hint) {
        text.append(el("span", "hint", item.hint));
      }
      return text;
    }

    function render() {
      list.textContent = "";
      if (chosen.length === 0) {
        list.append(el("li", "empty", "None"));
      }
      chosen.forEach(function (item) {
        var li = el("li", "pick");
        if (item.thumb) {
          li.append(thumb(item));
        }
        li.append(describe(item));
        var value = el("input");
        value.type = "hidden";
        value.name = name;
        value.value = item.id;
        var remove = el("button", "secondary small", "Remove");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + (item.label || item.id));
        remove.addEventListener("click", function () {
          chosen = chosen.filter(function (c) { return c.id !== item.id; });
          render();
          note.textContent = "Removed " + (item.label || item.id) + ".";
          open.focus();
        });
        li.append(value, remove);
        list.append(li);
      });
      open.textContent = many ? "Add" : (chosen.length ? "Change" : "Choose");
      results.querySelectorAll("button[data-id]").forEach(function (b) {
        b.setAttribute("aria-pressed", isChosen(b.getAttribute("data-id")) ? "true" : "false");
      });
    }

    function choose(item) {
      if (many) {
        if (!isChosen(item.id)) {
          chosen.push(item);
        }
        render();
        status.textContent = "Added " + (item.label || item.id) + ".";
        return;
      }
      chosen = [item];
      render();
      close();
      note.textContent = "Chose " + (item.label || item.id) + ".";
    }

    function addResult(item) {
      var li = el("li");
      var b = el("button", "choice");
      b.type = "button";
      b.setAttribute("data-id", item.id);
      b.setAttribute("aria-pressed", isChosen(item.id) ? "true" : "false");
      if (item.thumb) {
        b.append(thumb(item));
      } else if (isMedia) {
        b.append(el("span", "pick-thumb pick-type", item.hint || "file"));
      }
      b.append(describe(item));
      b.addEventListener("click", function () { choose(item); });
      li.append(b);
      results.append(li);
    }

    var more = "";
    var asked = 0;
    function load(append) {
      var url = search + "&q=" + encodeURIComponent(query.value.trim());
      if (append && more) {
        url += "&" + more;
      }
      var mine = ++asked;
      status.textContent = "Searching…";
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (resp) {
          if (!resp.ok) {
            throw new Error(resp.status === 403 ? "your role may not read these" :
              "the server answered " + resp.status);
          }
          return resp.json();
        })
        .then(function (answer) {
          if (mine !== asked) {
            return;
          }
          if (!append) {
            results.textContent = "";
          }
          answer.data.forEach(addResult);
          more = answer.more || "";
          moreButton.hidden = !more;
          var n = results.children.length;
          status.textContent = n === 0 ? "Nothing found." :
            (n === 1 ? "1 result." : n + " results.") + (more ? " There are more." : "");
        })
        .catch(function (err) {
          if (mine === asked) {
            status.textContent = "The search failed: " + err.message + ".";
          }
        });
    }

    function close() {
      panel.hidden = true;
      open.setAttribute("aria-expanded", "false");
      open.focus();
    }

    var timer = 0;
    query.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { load(false); }, 250);
    });
    query.addEventListener("keydown", function (ev) {
      // Enter searches at once instead of submitting the entry form.
      if (ev.key === "Enter") {
        ev.preventDefault();
        clearTimeout(timer);
        load(false);
      }
    });
    query.addEventListener("keypress", function (ev) {
      // Some browsers submit on the keypress that follows the keydown.
      if (ev.key === "Enter") {
        ev.preventDefault();
      }
    });
    panel.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        ev.preventDefault();
        close();
      }
    });
    open.addEventListener("click", function () {
      if (!panel.hidden) {
        close();
        return;
      }
      panel.hidden = false;
      open.setAttribute("aria-expanded", "true");
      query.focus();
      if (results.children.length === 0) {
        load(false);
      }
    });
    moreButton.addEventListener("click", function () { load(true); });
    closeButton.addEventListener("click", close);
    render();
  }

  function init() {
    document.querySelectorAll("[data-copy]").forEach(setupCopy);
    document.querySelectorAll("[data-live][id]").forEach(setupLive);
    document.querySelectorAll("details[data-preview-for]").forEach(setupPreview);
    document.querySelectorAll("select[data-attr-type]").forEach(setupAttribute);
    document.querySelectorAll("form[data-upload]").forEach(setupUpload);
    document.querySelectorAll("fieldset[data-picker]").forEach(setupPicker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
