/* The words selected in a section's marked text (static/papers/marking.js), and which of their
 * occurrences in the section's text they are: the server finds the prefix and suffix that tell
 * repeated words apart from that. The text is read as papers/rendering.py reads it: whitespace
 * runs collapsed, the claims' reference numbers and the footnotes' links left out (they are not
 * part of the text).
 */
(function () {
  "use strict";

  function visibleText(range) {
    var fragment = range.cloneContents();
    var links = ".claim-ref, [role=doc-noteref], [role=doc-backlink]";
    fragment.querySelectorAll(links).forEach(function (ref) {
      ref.remove();
    });
    return fragment.textContent;
  }

  function squash(value) {
    return value.split(/\s+/).filter(Boolean).join(" ");
  }

  function occurrences(haystack, quote) {
    var starts = [];
    for (var at = haystack.indexOf(quote); at !== -1; at = haystack.indexOf(quote, at + 1)) {
      starts.push(at);
    }
    return starts;
  }

  // The selection, if it lies within `root`.
  function range(root) {
    var selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) {
      return null;
    }
    var selected = selection.getRangeAt(0);
    return root.contains(selected.commonAncestorContainer) ? selected : null;
  }

  // {quote, occurrence (from 0; "" when the words occur once), range}, or null.
  function read(root) {
    var selected = range(root);
    var picked = selected ? visibleText(selected) : "";
    var quote = squash(picked);
    if (!quote) {
      return null;
    }
    var whole = document.createRange();
    whole.selectNodeContents(root);
    var before = whole.cloneRange();
    before.setEnd(selected.startContainer, selected.startOffset);
    var all = visibleText(whole);
    var rawStart = visibleText(before).length + picked.search(/\S/);
    // Collapsing is read left to right, so the text up to the first selected character
    // collapses as it does within the whole text: its length is where the words start.
    var start = all.slice(0, rawStart).replace(/\s+/g, " ").replace(/^ /, "").length;
    var starts = occurrences(squash(all), quote);
    var nearest = 0;
    starts.forEach(function (at, n) {
      if (Math.abs(at - start) < Math.abs(starts[nearest] - start)) {
        nearest = n;
      }
    });
    return { quote: quote, occurrence: starts.length > 1 ? nearest : "", range: selected };
  }

  window.StandpointSelection = { range: range, read: read, squash: squash };
})();
