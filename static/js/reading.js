// A paper's page, for readers. Everything here is an enhancement: without it the contents fold
// open with a click, and each claim's numbered link leads to its note.
(function () {
  "use strict";

  // The contents fold away on narrow screens, where they would stand between the title and the
  // text; on wide screens they sit beside the header, open.
  if (window.matchMedia("(min-width: 60rem)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
      details.open = true;
    });
  }

  // A click on a highlighted passage goes to its claim's note, as its number does. Clicks on a
  // link inside the passage, and selections of its words, stay what they were. A claim's first
  // mark names it by its id ("claim-<id>"), the rest of a split one by data-claim, as do all
  // marks of versions published before.
  document.documentElement.classList.add("claims-clickable");
  document.addEventListener("click", function (event) {
    var mark = event.target.closest && event.target.closest(".paper__body mark.claim");
    if (!mark || event.target.closest("a") || String(window.getSelection())) {
      return;
    }
    var id = mark.getAttribute("data-claim") || mark.id.replace(/^claim-/, "");
    var note = id && document.getElementById("claim-note-" + id);
    if (note) {
      window.location.hash = note.id;
    }
  });
})();
