/* Review workspace: claim panels folded under the paragraph that holds their claim, opened in
 * place when the claim's number is activated; verdicts, comments, replies and resolutions saved
 * without reloading the page.
 *
 * Progressive enhancement only: without this script every panel is listed, open, after its
 * section, and every form posts as usual. No inline script or style is needed (strict CSP).
 */
(function () {
  "use strict";

  var body = document.querySelector("[data-review-body]");
  if (!body || !("hidden" in body)) {
    return;
  }
  document.documentElement.classList.add("review-js");

  var panels = {};
  var lastAfter = new Map();

  function setOpen(panel, open) {
    panel.details.hidden = !open;
    panel.toggle.setAttribute("aria-expanded", String(open));
    panel.element.classList.toggle("review-claim--open", open);
    refsOf(panel.id).forEach(function (ref) {
      ref.setAttribute("aria-expanded", String(open));
    });
  }

  function refsOf(id) {
    return Array.prototype.slice.call(
      body.querySelectorAll('a.claim-ref[href="#claim-note-' + id + '"]')
    );
  }

  function blockOf(mark) {
    // The paragraph (or list, table, quote) of the section's prose that holds the claim.
    var node = mark;
    while (node.parentElement && !node.parentElement.classList.contains("prose")) {
      node = node.parentElement;
    }
    return node.parentElement ? node : null;
  }

  // A panel: its heading's content becomes a disclosure button; `place` moves it under the
  // paragraph that holds its claim (a panel replaced after saving is already there).
  function setUp(element, place) {
    var id = element.getAttribute("data-claim-panel");
    var details = element.querySelector("[data-claim-details]");
    var heading = element.querySelector(".review-claim__heading");
    if (!details || !heading) {
      return null;
    }
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "review-claim__toggle";
    toggle.setAttribute("aria-controls", details.id);
    while (heading.firstChild) {
      toggle.appendChild(heading.firstChild);
    }
    heading.appendChild(toggle);

    if (place) {
      var mark = document.getElementById("claim-" + id);
      var block = mark && blockOf(mark);
      if (block) {
        var after = lastAfter.get(block) || block;
        after.insertAdjacentElement("afterend", element);
        lastAfter.set(block, element);
        element.classList.add("review-claim--inline");
      }
    }

    var panel = { id: id, element: element, details: details, toggle: toggle };
    panels[id] = panel;
    toggle.addEventListener("click", function () {
      setOpen(panel, details.hidden);
    });
    element.querySelectorAll("form[data-in-place]").forEach(function (form) {
      form.addEventListener("submit", saveInPlace);
    });
    return panel;
  }

  body.querySelectorAll("[data-claim-panel]").forEach(function (element) {
    var panel = setUp(element, true);
    if (!panel) {
      return;
    }
    setOpen(panel, false);
    refsOf(panel.id).forEach(function (ref) {
      ref.setAttribute("aria-controls", panel.details.id);
      ref.addEventListener("click", function (event) {
        event.preventDefault();
        var current = panels[panel.id];
        var opening = current.details.hidden;
        setOpen(current, opening);
        if (opening) {
          current.toggle.focus();
        }
      });
    });
  });

  // Open and close everything at once, for reviewers working through every claim.
  var ids = Object.keys(panels);
  if (ids.length) {
    var tools = document.createElement("p");
    tools.className = "review-tools";
    [
      ["Open all claims", true],
      ["Close all claims", false],
    ].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--small button--quiet";
      button.textContent = spec[0];
      button.addEventListener("click", function () {
        Object.keys(panels).forEach(function (id) {
          setOpen(panels[id], spec[1]);
        });
      });
      tools.appendChild(button);
    });
    body.insertAdjacentElement("beforebegin", tools);
  }

  // Saving in place: the form is posted with fetch, asking for JSON; the answer carries the
  // claim's panel and the reviewer's progress as the server renders them now, which replace
  // the ones on the page. Any other answer (a page not found, a network error) falls back to
  // posting the form as usual, so the outcome is never lost.
  var status = document.createElement("p");
  status.className = "review-status-line";
  status.setAttribute("role", "status");
  document.querySelector(".review-paper").appendChild(status);
  var statusTimer = null;

  function announce(text, ok) {
    // One live region for the page; the messages of the last full page load make way.
    document.querySelectorAll("main > .messages").forEach(function (old) {
      old.remove();
    });
    status.textContent = text;
    status.classList.toggle("review-status-line--error", !ok);
    status.classList.add("review-status-line--shown");
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () {
      status.classList.remove("review-status-line--shown");
    }, 8000);
  }

  function fromHTML(markup) {
    var template = document.createElement("template");
    template.innerHTML = markup.trim();
    return template.content.firstElementChild;
  }

  function replacePanel(id, markup) {
    var old = panels[id];
    var element = fromHTML(markup);
    if (!old || !element) {
      return;
    }
    if (old.element.classList.contains("review-claim--inline")) {
      element.classList.add("review-claim--inline");
    }
    old.element.replaceWith(element);
    lastAfter.forEach(function (after, block) {
      if (after === old.element) {
        lastAfter.set(block, element);
      }
    });
    var panel = setUp(element, false);
    setOpen(panel, true);
    panel.toggle.focus({ preventScroll: true });
  }

  // The other parts of the page the action may have changed (the reviewer's progress; for
  // editors the coverage and the editor's desk), by element id.
  function replaceRegions(regions) {
    Object.keys(regions || {}).forEach(function (id) {
      var old = document.getElementById(id);
      var element = regions[id] && fromHTML(regions[id]);
      if (old && element) {
        old.replaceWith(element);
      }
    });
  }

  function saveInPlace(event) {
    var form = event.currentTarget;
    if (!window.fetch || !window.FormData || form.getAttribute("aria-busy") === "true") {
      return;
    }
    event.preventDefault();
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          throw new Error("Not an answer to update the page with.");
        }
        return response.json();
      })
      .then(function (data) {
        replacePanel(data.claim, data.panel);
        replaceRegions(data.regions);
        announce(data.message, data.ok);
      })
      .catch(function () {
        form.removeAttribute("aria-busy");
        form.submit();
      });
  }

  // Arriving at a claim, thread or comment (after posting a form, or from a link): open its
  // panel and bring it into view.
  function openFromHash() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var element = target && target.closest("[data-claim-panel]");
    if (!element) {
      return;
    }
    var panel = panels[element.getAttribute("data-claim-panel")];
    if (panel) {
      setOpen(panel, true);
      target.scrollIntoView({ block: "start" });
      if (target === element) {
        element.focus({ preventScroll: true });
      }
    }
  }
  window.addEventListener("hashchange", openFromHash);
  openFromHash();

  // Opened without a claim in the address: bring the first claim that needs the reviewer's
  // attention into view when it is on this part (the server chose the part that shows it).
  var start = !location.hash && document.querySelector("[data-attention-start]");
  if (start) {
    var first = document.getElementById(start.hash.slice(1));
    var element = first && first.closest("[data-claim-panel]");
    if (element && panels[element.getAttribute("data-claim-panel")]) {
      setOpen(panels[element.getAttribute("data-claim-panel")], true);
      first.scrollIntoView({ block: "start" });
    }
  }
})();
