/* Marking claims on a section's admin page (papers/admin_marking.py): select words in the marked
 * text and choose "Mark as claim", or choose a marked claim, and a small form opens in place with
 * its kind, tags (found or created as you type), note and sources (found or added). Saving posts
 * to the page's own endpoints and swaps in the text and list as the server renders them again.
 *
 * Progressive enhancement: without this script the page shows the marked text and a link to the
 * claim admin's add form. No inline script or style is needed (strict CSP); positions are set
 * through the DOM. Helpers: static/papers/marking-selection.js (the selected words and which of
 * their occurrences they are) and static/papers/marking-lookup.js (the tags and sources fields).
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-marking]");
  var template = document.getElementById("marking-dialog");
  var selection = window.StandpointSelection;
  if (!root || !template || !selection || !window.StandpointLookup || !window.HTMLDialogElement) {
    return;
  }

  var urls = {
    mark: root.getAttribute("data-mark-url"),
    tags: root.getAttribute("data-tags-url"),
    sources: root.getAttribute("data-sources-url")
  };
  var text = root.querySelector("[data-marking-text]");
  var dialog = template.content.firstElementChild.cloneNode(true);
  document.body.appendChild(dialog);
  var form = dialog.querySelector("form");
  var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var title = dialog.querySelector("#marking-dialog-title");
  var claims = {};
  var editing = null; // the claim being changed, or null for a new one
  var opener = null; // what gets the focus back when the form closes

  // --- Marks that open their claim ----------------------------------------------------------------

  function readClaims(source) {
    var data = source.querySelector("#marking-claims");
    claims = {};
    JSON.parse(data ? data.textContent : "[]").forEach(function (claim) {
      claims[claim.id] = claim;
    });
  }

  // Each claim's first mark becomes a button, unless it sits in a link or another claim's mark
  // (interactive elements must not nest); its reference number is the handle then.
  function enhanceMarks() {
    Object.keys(claims).forEach(function (id) {
      var claim = claims[id];
      var mark = document.getElementById("claim-" + id);
      var ref = text.querySelector('a.claim-ref[href="#claim-note-' + id + '"]');
      if (!mark) {
        return;
      }
      var nested = mark.closest("a") || mark.querySelector("mark") ||
        (mark.parentElement && mark.parentElement.closest("mark"));
      if (nested) {
        return;
      }
      mark.tabIndex = 0;
      mark.setAttribute("role", "button");
      mark.setAttribute("aria-haspopup", "dialog");
      mark.setAttribute("aria-label", "Claim " + claim.number + ", " + claim.kind + ": " +
        (claim.quote.length > 80 ? claim.quote.slice(0, 79) + "…" : claim.quote));
      if (ref) {
        ref.tabIndex = -1;
      }
    });
  }

  function claimOf(element) {
    var ref = element.closest("a.claim-ref");
    if (ref) {
      return claims[(ref.getAttribute("href") || "").replace("#claim-note-", "")];
    }
    var mark = element.closest("mark.claim");
    return mark ? claims[markedClaim(mark)] : null;
  }

  // A claim's first mark names it by its id, the others of a claim split by inline markup by
  // data-claim (papers/claim_marks.py).
  function markedClaim(mark) {
    return mark.getAttribute("data-claim") || mark.id.replace(/^claim-/, "");
  }

  text.addEventListener("click", function (event) {
    var claim = claimOf(event.target);
    if (!claim || selection.range(text)) {
      return; // a click that ends a selection marks words, it does not open a claim
    }
    event.preventDefault();
    openClaim(claim, event.target.closest("mark[role=button], a") || text);
  });

  text.addEventListener("keydown", function (event) {
    var mark = event.target.closest("mark[role=button]");
    if (mark && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      openClaim(claims[markedClaim(mark)], mark);
    }
  });

  // --- "Mark as claim" ------------------------------------------------------------------------------

  function markButton(className) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.textContent = "Mark as claim";
    button.setAttribute("aria-haspopup", "dialog");
    return button;
  }

  // The link to the claim admin's add form becomes the button that opens the form here.
  var add = markButton("button marking__add");
  add.setAttribute("aria-describedby", "marking-help");
  root.querySelector("[data-marking-add]").replaceWith(add);

  var floating = markButton("button marking__float");
  floating.hidden = true;
  text.insertAdjacentElement("afterend", floating);

  // Pressing these buttons must not undo the selection they act on.
  [add, floating].forEach(function (button) {
    button.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    button.addEventListener("click", function (event) {
      event.preventDefault();
      openNew(selection.read(text), button);
    });
  });

  function placeFloating() {
    var range = selection.range(text);
    if (!range || !selection.squash(range.toString())) {
      floating.hidden = true;
      return;
    }
    var rects = range.getClientRects();
    var last = rects.length ? rects[rects.length - 1] : range.getBoundingClientRect();
    var box = root.getBoundingClientRect();
    floating.hidden = false;
    var left = Math.min(last.right - box.left, box.width - floating.offsetWidth);
    floating.style.left = Math.max(0, left) + "px";
    floating.style.top = (last.bottom - box.top + 6) + "px";
  }

  text.addEventListener("mouseup", function () {
    window.setTimeout(placeFloating, 0); // after the browser settles the selection
  });
  text.addEventListener("keyup", placeFloating);
  document.addEventListener("selectionchange", function () {
    if (!floating.hidden && !selection.range(text)) {
      floating.hidden = true;
    }
  });

  // --- The form -------------------------------------------------------------------------------------

  function show(element, visible) {
    element.hidden = !visible;
    element.querySelectorAll("input, textarea, select").forEach(function (field) {
      field.disabled = !visible;
    });
  }

  function clearErrors() {
    form.querySelectorAll("[data-errors]").forEach(function (box) {
      box.replaceChildren();
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
    });
  }

  function fieldFor(key) {
    if (key.indexOf("source-") === 0) {
      return form.querySelector('[data-source-field="' + key.slice(7) + '"]');
    }
    var lookup = form.querySelector('[data-lookup="' + key + '"]');
    return lookup ? lookup.querySelector("[role=combobox]") : form.querySelector('[name="' + key + '"]');
  }

  function showErrors(errors) {
    var first = null;
    Object.keys(errors).forEach(function (key) {
      var box = form.querySelector('[data-errors="' + key + '"]') ||
        form.querySelector('[data-errors="__all__"]');
      var list = document.createElement("ul");
      list.className = "errorlist";
      errors[key].forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
      box.appendChild(list);
      var field = fieldFor(key);
      if (field && !field.disabled) {
        if (!box.id) {
          box.id = "marking-errors-" + key.replace(/[^a-z]/g, "");
        }
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", (field.getAttribute("aria-describedby") || "")
          .split(" ").filter(function (id) { return id && id !== box.id; }).concat(box.id).join(" "));
        first = first || field;
      }
    });
    (first || form.querySelector("[type=submit]")).focus();
  }

  function reset() {
    form.reset();
    clearErrors();
    lookups.forEach(function (lookup) {
      lookup.clear();
    });
    form.querySelector("[data-new-source]").open = false;
  }

  function openNew(selected, from) {
    reset();
    editing = null;
    opener = from;
    title.textContent = "Mark a claim";
    show(form.querySelector("[data-for-new]"), true);
    show(form.querySelector("[data-for-existing]"), false);
    form.querySelector("[data-claim-page]").hidden = true;
    form.elements.quote.value = selected ? selected.quote : "";
    form.elements.occurrence.value = selected ? selected.occurrence : "";
    floating.hidden = true;
    open(selected ? selected.range.getBoundingClientRect() : from.getBoundingClientRect());
    (selected ? form.elements.kind : form.elements.quote).focus();
  }

  function openClaim(claim, from) {
    if (!claim) {
      return;
    }
    reset();
    editing = claim;
    opener = from;
    title.textContent = "Claim " + claim.number;
    show(form.querySelector("[data-for-new]"), false);
    var quote = form.querySelector("[data-for-existing]");
    show(quote, true);
    quote.textContent = claim.quote;
    var page = form.querySelector("[data-claim-page]");
    page.hidden = false;
    page.href = claim.page;
    page.textContent = "Claim " + claim.number + "'s own page (to move its words)";
    form.elements.kind.value = claim.kind;
    form.elements.note.value = claim.note;
    form.elements.due.value = claim.due || "";
    form.elements.resolves_when.value = claim.resolves_when || "";
    tags.set(claim.tags);
    sources.set(claim.sources);
    open(from.getBoundingClientRect());
    form.elements.kind.focus();
  }

  // Opens the form next to what it is about, inside the window.
  function open(near) {
    dialog.classList.remove("marking-dialog--placed");
    dialog.style.maxHeight = "";
    dialog.showModal();
    if (window.innerWidth < 640) {
      return; // centred by the browser on narrow screens
    }
    var width = dialog.offsetWidth;
    var height = dialog.offsetHeight;
    var left = Math.min(Math.max(8, near.left), window.innerWidth - width - 8);
    var top = near.bottom + 8;
    if (top + height > window.innerHeight - 8) {
      top = Math.max(8, near.top - height - 8);
    }
    dialog.style.left = left + "px";
    dialog.style.top = top + "px";
    // It grows as it is filled in (a new source's fields): it scrolls inside the window rather
    // than run past its bottom edge.
    dialog.style.maxHeight = (window.innerHeight - top - 8) + "px";
    dialog.classList.add("marking-dialog--placed");
  }

  dialog.querySelector("[data-close]").addEventListener("click", function () {
    dialog.close();
  });

  dialog.addEventListener("close", function () {
    var target = opener && opener.isConnected ? opener : null;
    (target || add).focus();
  });

  form.elements.quote.addEventListener("input", function () {
    form.elements.occurrence.value = ""; // typed words: the server says if they are ambiguous
  });

  // --- Talking to the server ------------------------------------------------------------------------

  function send(url, body) {
    var options = {
      method: body ? "POST" : "GET",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" }
    };
    if (body) {
      options.body = body;
    }
    return fetch(url, options).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        throw new Error(response.redirected || response.status === 200
          ? "You are no longer signed in: sign in again in another tab, then save."
          : "Nothing was saved: the server answered " + response.status + ".");
      }
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function failed(error) {
    showErrors({ __all__: [error.message] });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var button = form.querySelector("[type=submit]");
    button.disabled = true;
    send(editing ? editing.url : urls.mark, new FormData(form))
      .then(function (answer) {
        if (!answer.ok) {
          showErrors(answer.data.errors || {});
          return;
        }
        refresh(answer.data.html);
        var mark = document.getElementById("claim-" + answer.data.claim);
        var handle = mark && mark.getAttribute("role") === "button" ? mark
          : text.querySelector('a.claim-ref[href="#claim-note-' + answer.data.claim + '"]');
        opener = handle || document.getElementById("claim-note-" + answer.data.claim);
        dialog.close();
        if (mark) {
          mark.classList.add("marking__saved");
        }
      })
      .catch(failed)
      .finally(function () {
        button.disabled = false;
      });
  });

  // The text and the list as the server rendered them after the save.
  function refresh(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var newText = fresh.querySelector("[data-marking-text]");
    var newClaims = fresh.querySelector("[data-marking-claims]");
    text.replaceChildren.apply(text, Array.from(newText.childNodes));
    var list = root.querySelector("[data-marking-claims]");
    list.replaceChildren.apply(list, Array.from(newClaims.childNodes));
    readClaims(root);
    enhanceMarks();
    floating.hidden = true;
  }

  // --- Tags and sources: a combobox each (static/papers/marking-lookup.js) ---------------------

  function finder(kind) {
    return function (words) {
      return send(urls[kind] + "?q=" + encodeURIComponent(words)).then(function (answer) {
        return answer.ok ? answer.data.results : [];
      });
    };
  }

  var tags = window.StandpointLookup(form.querySelector('[data-lookup="tags"]'), {
    noun: "tag",
    find: finder("tags"),
    createLabel: function (words) {
      return "Create tag “" + words + "”";
    },
    create: createTag
  });
  var sources = window.StandpointLookup(form.querySelector('[data-lookup="sources"]'), {
    noun: "source",
    find: finder("sources"),
    createLabel: function (words) {
      return "Add a new source “" + words + "”…";
    },
    create: newSource
  });
  var lookups = [tags, sources];

  function createTag(words) {
    var body = new FormData();
    body.append("name", words);
    clearErrors();
    send(urls.tags, body).then(function (answer) {
      if (!answer.ok) {
        var errors = answer.data.errors || {};
        showErrors({ tags: errors.name || errors.__all__ || ["The tag was not created."] });
        return;
      }
      tags.choose(answer.data);
      tags.input.value = "";
      tags.status.textContent = "Created and added tag " + answer.data.label + ".";
    }).catch(failed);
  }

  // --- A new source, added in place -------------------------------------------------------------------

  var newSourceBox = form.querySelector("[data-new-source]");

  function sourceField(name) {
    return newSourceBox.querySelector('[data-source-field="' + name + '"]');
  }

  function newSource(words) {
    newSourceBox.open = true;
    var looksLikeUrl = /^(https?:\/\/|www\.)/i.test(words);
    sourceField(looksLikeUrl ? "url" : "title").value = words;
    sourceField(looksLikeUrl ? "title" : "url").focus();
    sources.input.value = "";
  }

  function addSource() {
    var body = new FormData();
    ["title", "url", "publisher"].forEach(function (name) {
      body.append(name, sourceField(name).value);
    });
    clearErrors();
    send(urls.sources, body).then(function (answer) {
      if (!answer.ok) {
        var errors = {};
        Object.keys(answer.data.errors || {}).forEach(function (key) {
          errors[key === "__all__" ? key : "source-" + key] = answer.data.errors[key];
        });
        showErrors(errors);
        return;
      }
      sources.choose(answer.data);
      ["title", "url", "publisher"].forEach(function (name) {
        sourceField(name).value = "";
      });
      newSourceBox.open = false;
      sources.input.focus();
    }).catch(failed);
  }

  newSourceBox.querySelector("[data-add-source]").addEventListener("click", addSource);
  newSourceBox.querySelectorAll("input").forEach(function (field) {
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // adds the source; the claim is saved with its own button
        addSource();
      }
    });
  });

  readClaims(root);
  enhanceMarks();
})();
