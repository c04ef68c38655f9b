// The editor's desk in the admin. Leaving a paper's or a section's page with unsaved changes
// asks first; an image dropped or pasted into a section's editor asks for its description (alt
// text) and writes it into the Markdown; the autocomplete widgets' search fields get labels.
// Without this script the forms work the same, and an image's Markdown, ![](address), is valid
// as it is.
"use strict";

(function () {
  const GUARDED = "#paper_form, #section_form";
  let prompts = 0;

  function state(form) {
    // What saving would send: a change typed and then undone leaves nothing to lose.
    const fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") {
        fields.push(name + "=" + value);
      }
    });
    return fields.join("&");
  }

  function guard(form) {
    const opened = state(form);
    // A page shown again with errors holds input that was not saved.
    const refused = document.querySelector(".errornote") !== null;
    let leaving = false;
    form.addEventListener("submit", function () { leaving = true; });
    window.addEventListener("beforeunload", function (event) {
      if (!leaving && (refused || state(form) !== opened)) {
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
    const described = "![" + escapeAlt(alt) + code.slice(2); // code is ![](address)
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

  function labelSearchFields() {
    // The admin's autocomplete widgets (select2) add a search field of their own, unlabelled:
    // it takes the label of the field it searches for.
    document.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (field) {
      const widget = field.closest(".select2");
      const select = widget && widget.previousElementSibling;
      const label = select && select.id && document.querySelector("label[for='" + select.id + "']");
      if (label) {
        field.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(GUARDED).forEach(guard);
    const main = document.getElementById("content-main");
    if (main) {
      labelSearchFields();
      new MutationObserver(labelSearchFields).observe(main, { childList: true, subtree: true });
    }
  });
  document.addEventListener("markdownx.fileUploadEnd", askForAlt, true);
})();
