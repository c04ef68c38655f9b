// markdownx's editor writes "Invalid response" into the text where a refused image would have
// gone. Put the text back as it was and show the reason our upload gave, next to the editor.
"use strict";

(function () {
  const FALLBACK = "The image could not be uploaded.";

  function reasonOf(detail) {
    let response = detail && detail[0];
    if (typeof response === "string") {
      try {
        response = JSON.parse(response);
      } catch (error) {
        return FALLBACK;
      }
    }
    const reasons = response && response.image;
    return Array.isArray(reasons) && reasons.length ? reasons.join(" ") : FALLBACK;
  }

  function showReason(parent, reason) {
    let note = parent.querySelector(".upload-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "errornote upload-error";
      note.setAttribute("role", "alert");
      parent.prepend(note);
    }
    note.textContent = reason; // text, never markup: the reason names the uploaded file
  }

  function refused(event) {
    const parent = event.target;
    const editor = parent.querySelector && parent.querySelector("textarea");
    if (!editor) {
      return;
    }
    const text = editor.value;
    const start = editor.selectionStart;
    const end = editor.selectionEnd;
    const reason = reasonOf(event.detail);
    // The widget inserts its text right after this event, in the same task.
    setTimeout(function () {
      editor.value = text;
      editor.setSelectionRange(start, end);
      showReason(parent, reason);
    }, 0);
  }

  function uploaded(event) {
    const note = event.target.querySelector && event.target.querySelector(".upload-error");
    if (note) {
      note.remove();
    }
  }

  // The widget's events do not bubble: listen while they are captured on the way down.
  document.addEventListener("markdownx.fileUploadError", refused, true);
  document.addEventListener("fileUploadError", refused, true);
  document.addEventListener("markdownx.fileUploadEnd", uploaded, true);
})();
