// The manifest editor of the install and installation pages (console.js loads first: consoleFetch, showTimes).
// It checks the text as it is typed against the server's own validator and lists each problem at its JSON pointer,
// with a button that puts the cursor there; reads a chosen manifest file into the editor (nothing is uploaded);
// and keeps the address bar on the installation's own page, so reloading a posted answer never posts again.
"use strict";

(function () {
  const CHECK_DELAY_MS = 400;
  const MAX_FILE_BYTES = 1024 * 1024;

  // Where a JSON pointer's last key is written in the text: a best effort (the keys in order), enough to find it.
  function pointerRange(text, pointer) {
    const parts = pointer.split("/").slice(1).map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
    let from = 0;
    let range = { start: 0, end: 0 };
    for (const part of parts) {
      if (/^\d+$/.test(part)) continue; // an array index: the array's key is as close as a search gets
      const key = JSON.stringify(part);
      const at = text.indexOf(key, from);
      if (at < 0) break;
      range = { start: at, end: at + key.length };
      from = range.end;
    }
    return range;
  }

  function lineColumnRange(text, line, column) {
    const lines = text.split("\n");
    let start = 0;
    for (let index = 0; index < Math.min(line - 1, lines.length); index += 1) start += lines[index].length + 1;
    start = Math.min(start + Math.max(column - 1, 0), text.length);
    return { start, end: Math.min(start + 1, text.length) };
  }

  // A textarea does not scroll to a selection set by script: bring its line to the middle of the view.
  function scrollToOffset(editor, offset) {
    const line = editor.value.slice(0, offset).split("\n").length - 1;
    const height = parseFloat(window.getComputedStyle(editor).lineHeight) || 18;
    editor.scrollTop = Math.max(0, line * height - editor.clientHeight / 2);
  }

  function showButton(editor, item) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Show";
    button.setAttribute("aria-label", `Show ${item.dataset.pointer || "the start"} in the editor`);
    button.addEventListener("click", () => {
      const line = Number(item.dataset.line);
      const range = line
        ? lineColumnRange(editor.value, line, Number(item.dataset.column))
        : pointerRange(editor.value, item.dataset.pointer || "");
      editor.focus();
      editor.setSelectionRange(range.start, range.end);
      scrollToOffset(editor, range.start);
    });
    return button;
  }

  function problemItem(editor, problem, severity) {
    const item = document.createElement("li");
    item.className = `is-${severity}`;
    item.dataset.pointer = problem.pointer;
    if (problem.line) {
      item.dataset.line = String(problem.line);
      item.dataset.column = String(problem.column || 1);
    }
    const label = document.createElement("strong");
    label.textContent = severity === "error" ? "Error" : "Warning";
    const where = document.createElement("code");
    where.textContent = problem.pointer || "/";
    item.append(label, " at ", where, `: ${problem.message}`);
    if (problem.hint) {
      const hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = `(${problem.hint})`;
      item.append(" ", hint);
    }
    item.append(" ", showButton(editor, item));
    return item;
  }

  function counted(count, noun) {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
  }

  function showAnswer(editor, list, status, answer) {
    const items = [
      ...answer.errors.map((problem) => problemItem(editor, problem, "error")),
      ...answer.warnings.map((problem) => problemItem(editor, problem, "warning")),
    ];
    list.replaceChildren(...items);
    if (answer.valid) {
      editor.removeAttribute("aria-invalid");
      status.textContent = answer.warnings.length
        ? `Valid, with ${counted(answer.warnings.length, "warning")}:`
        : "Valid: no problems found.";
    } else {
      editor.setAttribute("aria-invalid", "true");
      status.textContent = `${counted(answer.errors.length, "problem")} found:`;
    }
  }

  function setUpEditor(editor) {
    const list = document.getElementById("manifest-problems");
    const status = document.getElementById("manifest-status");
    const reviewed = document.getElementById("reviewed-manifest");
    for (const item of list.querySelectorAll("li")) item.append(" ", showButton(editor, item));
    let timer = 0;
    let latest = 0;

    async function check() {
      const mine = (latest += 1);
      let answer;
      try {
        const response = await window.consoleFetch(editor.dataset.checkUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ manifest: editor.value }),
        });
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        answer = await response.json();
      } catch (error) {
        if (mine === latest) status.textContent = `Could not check the manifest (${error.message}); it is checked again when you send it.`;
        return;
      }
      if (mine === latest) showAnswer(editor, list, status, answer);
    }

    function markReview() {
      if (!reviewed) return;
      const stale = editor.value !== reviewed.value;
      document.getElementById("review-stale").hidden = !stale;
      document.getElementById("save-button").disabled = stale;
    }

    editor.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, CHECK_DELAY_MS);
      markReview();
    });
  }

  function setUpFileInput(input) {
    const editor = document.getElementById(input.dataset.editor);
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (!file || !editor) return;
      const status = document.getElementById("manifest-status");
      if (file.size > MAX_FILE_BYTES) {
        status.textContent = `${file.name} is larger than a manifest can be (1 MiB); choose another file.`;
        return;
      }
      const reader = new FileReader();
      reader.addEventListener("load", () => {
        editor.value = String(reader.result);
        editor.dispatchEvent(new Event("input"));
      });
      reader.addEventListener("error", () => {
        status.textContent = `${file.name} could not be read.`;
      });
      reader.readAsText(file);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const editor of document.querySelectorAll("textarea[data-check-url]")) setUpEditor(editor);
    for (const input of document.querySelectorAll("input[type=file][data-editor]")) setUpFileInput(input);
  });
})();
