/* Review workspace: claim panels folded under the paragraph that holds their claim, opened in
 * place when the claim's number is activated.
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

  function setOpen(panel, open) {
    panel.details.hidden = !open;
    panel.toggle.setAttribute("aria-expanded", String(open));
    panel.element.classList.toggle("review-claim--open", open);
    panel.refs.forEach(function (ref) {
      ref.setAttribute("aria-expanded", String(open));
    });
  }

  function blockOf(mark) {
    // The paragraph (or list, table, quote) of the section's prose that holds the claim.
    var node = mark;
    while (node.parentElement && !node.parentElement.classList.contains("prose")) {
      node = node.parentElement;
    }
    return node.parentElement ? node : null;
  }

  var lastAfter = new Map();

  body.querySelectorAll("[data-claim-panel]").forEach(function (element) {
    var id = element.getAttribute("data-claim-panel");
    var details = element.querySelector("[data-claim-details]");
    var heading = element.querySelector(".review-claim__heading");
    if (!details || !heading) {
      return;
    }

    // Disclosure pattern: the heading's content becomes a button inside the heading.
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "review-claim__toggle";
    toggle.setAttribute("aria-controls", details.id);
    while (heading.firstChild) {
      toggle.appendChild(heading.firstChild);
    }
    heading.appendChild(toggle);

    var mark = document.getElementById("claim-" + id);
    var block = mark && blockOf(mark);
    if (block) {
      var after = lastAfter.get(block) || block;
      after.insertAdjacentElement("afterend", element);
      lastAfter.set(block, element);
      element.classList.add("review-claim--inline");
    }

    var refs = Array.prototype.slice.call(
      body.querySelectorAll('.claim-ref a[href="#claim-note-' + id + '"]')
    );
    refs.forEach(function (ref) {
      ref.setAttribute("aria-controls", details.id);
    });

    var panel = { element: element, details: details, toggle: toggle, refs: refs };
    panels[id] = panel;
    setOpen(panel, false);

    toggle.addEventListener("click", function () {
      setOpen(panel, details.hidden);
    });
    refs.forEach(function (ref) {
      ref.addEventListener("click", function (event) {
        event.preventDefault();
        var opening = details.hidden;
        setOpen(panel, opening);
        if (opening) {
          toggle.focus();
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
        ids.forEach(function (id) {
          setOpen(panels[id], spec[1]);
        });
      });
      tools.appendChild(button);
    });
    body.insertAdjacentElement("beforebegin", tools);
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
})();
