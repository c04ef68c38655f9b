// Claim picker for the admin's claim page: selecting words in the section text fills in the
// claim's quote, and its prefix and suffix when the words occur more than once in the section.
"use strict";

(function () {
  const CONTEXT = 40;

  function setValue(id, value) {
    const field = document.getElementById(id);
    if (field) {
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function occurrences(text, quote) {
    let count = 0;
    for (let at = text.indexOf(quote); at !== -1; at = text.indexOf(quote, at + 1)) {
      count += 1;
    }
    return count;
  }

  function context(text, from, to) {
    // Whole words only, so the context reads naturally in the form.
    const slice = text.slice(Math.max(0, from), Math.min(text.length, to));
    return slice.trim();
  }

  function pick(source) {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !source.contains(selection.anchorNode)) {
      return;
    }
    const range = selection.getRangeAt(0);
    const before = document.createRange();
    before.selectNodeContents(source);
    before.setEnd(range.startContainer, range.startOffset);
    const text = source.textContent;
    const raw = range.toString();
    const quote = raw.trim();
    if (!quote) {
      return;
    }
    const start = before.toString().length + (raw.length - raw.trimStart().length);
    const end = start + quote.length;
    setValue("id_quote", quote);
    if (occurrences(text, quote) > 1) {
      const prefix = context(text, start - CONTEXT, start);
      const suffix = context(text, end, end + CONTEXT);
      setValue("id_prefix", prefix.slice(prefix.indexOf(" ") + 1));
      setValue("id_suffix", suffix.slice(0, suffix.lastIndexOf(" ") > 0 ? suffix.lastIndexOf(" ") : suffix.length));
    } else {
      setValue("id_prefix", "");
      setValue("id_suffix", "");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const source = document.querySelector(".field-section_text .readonly");
    if (!source) {
      return;
    }
    source.classList.add("claim-picker");
    source.addEventListener("mouseup", function () { pick(source); });
    source.addEventListener("keyup", function () { pick(source); });
  });
})();
