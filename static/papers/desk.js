// The editor's desk in the admin. Leaving a paper's or a section's page with unsaved changes
// asks first; an image dropped or pasted into a section's editor asks for its description (alt
// text) and writes it into the Markdown. Without this script the forms work the same, and the
// image's Markdown, ![](address), is valid as it is.
"use strict";

(function () {
  const GUARDED = "#paper_form, #section_form";
  let prompts = 0;

  function guard(form) {
    // A page shown again with errors holds input that was not saved.
    let dirty = document.querySelector(".errornote") !== null;
    const changed = function () { dirty = true; };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    // markdownx writes an uploaded image's Markdown without an input event; its own events do
    // not bubble, so they are caught on the way down.
    form.addEventListener("markdownx.fileUploadEnd", changed, true);
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) {
        event.preventDefault();
        event.returnValue = ""; // browsers show their own question
      }
    });
  }

  function escapeAlt(text) {
    // Brackets and backslashes would end or break the image's Markdown.
    return text.replace(/\s+/g, " ").trim().replace(/[\\[\]]/g, "\\$&");
  }

  function describe(editor, code, alt) {
    const at = editor.value.indexOf(code);
    if (at === -1 || !alt.trim()) {
      return;
    }
    const described = "![" + escapeAlt(alt) + code.slice(3);
    editor.value = editor.value.slice(0, at) + described + editor.value.slice(at + code.length);
    editor.setSelectionRange(at + described.length, at + described.length);
    editor.dispatchEvent(new Event("input", { bubbles: true })); // the preview follows
  }

  function askForAlt(event) {
    const parent = event.target;
    const editor = parent.querySelector && parent.querySelector("textarea");
    const response = event.detail && event.detail[0];
    const code = response && response.image_code;
    if (!editor || typeof code !== "string" || !code.startsWith("![](")) {
      return;
    }
    prompts += 1;
    const box = document.createElement("div");
    box.className = "desk-alt";
    box.setAttribute("role", "group");
    const label = document.createElement("label");
    label.htmlFor = "desk-alt-" + prompts;
    label.textContent = "Describe the image for readers who cannot see it (its alt text):";
    const input = document.createElement("input");
    input.type = "text";
    input.id = label.htmlFor;
    input.className = "vTextField";
    const add = document.createElement("button");
    add.type = "button";
    add.textContent = "Add the description";
    const skip = document.createElement("button");
    skip.type = "button";
    skip.textContent = "Leave it without one";
    box.append(label, input, add, skip);
    parent.before(box);

    function close(alt) {
      describe(editor, code, alt);
      box.remove();
      editor.focus();
    }
    add.addEventListener("click", function () { close(input.value); });
    skip.addEventListener("click", function () { close(""); });
    input.addEventListener("keydown", function (key) {
      if (key.key === "Enter") {
        key.preventDefault(); // not the section's form
        close(input.value);
      } else if (key.key === "Escape") {
        close("");
      }
    });
    input.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(GUARDED).forEach(guard);
  });
  document.addEventListener("markdownx.fileUploadEnd", askForAlt, true);
})();
