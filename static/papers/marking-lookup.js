/* A combobox of the marking form (static/papers/marking.js, which passes how to find, label and
 * create entries): type to find tags or sources, choose one with the arrow keys and Enter or with
 * the mouse. The chosen ones are listed, each with a button that removes it, and are posted as
 * hidden inputs named after the fieldset's data-field. The ARIA combobox pattern with a list
 * popup; the focus stays in the input, the active option is its aria-activedescendant.
 */
(function () {
  "use strict";

  window.StandpointLookup = function (fieldset, settings) {
    var name = fieldset.getAttribute("data-field");
    var noun = settings.noun;
    var input = fieldset.querySelector("[role=combobox]");
    var listbox = fieldset.querySelector("[role=listbox]");
    var chosen = fieldset.querySelector("[data-chosen]");
    var status = fieldset.querySelector(".marking-status");
    var options = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function chosenIds() {
      return Array.from(chosen.querySelectorAll("input")).map(function (field) {
        return field.value;
      });
    }

    function choose(item) {
      if (chosenIds().indexOf(String(item.id)) !== -1) {
        return;
      }
      var entry = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = item.label;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "marking-chosen__remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + noun + " " + item.label);
      remove.addEventListener("click", function () {
        entry.remove();
        status.textContent = "Removed " + noun + " " + item.label + ".";
        input.focus();
      });
      var value = document.createElement("input");
      value.type = "hidden";
      value.name = name;
      value.value = item.id;
      entry.append(label, " ", remove, value);
      // Sources say how the claim uses each: a select per source, named use-<id>.
      var uses = fieldset.querySelector("template[data-use-select]");
      if (uses) {
        var use = uses.content.firstElementChild.cloneNode(true);
        var select = use.querySelector("select");
        select.name = "use-" + item.id;
        select.value = item.use || select.value;
        select.setAttribute("aria-label", "How the claim uses " + item.label);
        entry.append(" ", use);
      }
      chosen.appendChild(entry);
      status.textContent = "Added " + noun + " " + item.label + ".";
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(n) {
      var items = listbox.querySelectorAll("[role=option]");
      if (!items.length) {
        return;
      }
      active = (n + items.length) % items.length;
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", String(i === active));
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function render(results, words) {
      var taken = chosenIds();
      options = results.filter(function (item) {
        return taken.indexOf(String(item.id)) === -1;
      });
      var exact = results.some(function (item) {
        return item.label.toLowerCase() === words.toLowerCase();
      });
      if (words && !exact) {
        options.push({ create: words, label: settings.createLabel(words) });
      }
      listbox.replaceChildren();
      options.forEach(function (item, n) {
        var option = document.createElement("li");
        option.id = listbox.id + "-" + n;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = item.label;
        if (item.url) {
          var url = document.createElement("span");
          url.className = "marking-options__url";
          url.textContent = item.url;
          option.append(" ", url);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the input
        });
        option.addEventListener("click", function () {
          pick(item);
        });
        listbox.appendChild(option);
      });
      var found = options.filter(function (item) { return !item.create; }).length;
      status.textContent = found ? found + " found: use the arrow keys to choose." :
        words ? "None found." : "";
      if (!options.length) {
        close();
        return;
      }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      input.removeAttribute("aria-activedescendant");
    }

    function search() {
      var words = input.value.trim();
      var ask = ++asked;
      settings.find(words).then(function (results) {
        if (ask === asked) { // an older answer arriving late is dropped
          render(results, words);
        }
      }).catch(function (error) {
        status.textContent = error.message;
      });
    }

    function pick(item) {
      close();
      if (!item.create) {
        choose(item);
        input.value = "";
        return;
      }
      settings.create(item.create);
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });

    input.addEventListener("keydown", function (event) {
      var isOpen = !listbox.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (isOpen) {
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        } else {
          search();
        }
      } else if (event.key === "Enter") {
        event.preventDefault(); // Enter picks here; it never submits the claim
        if (isOpen && active >= 0) {
          pick(options[active]);
        } else if (input.value.trim()) {
          window.clearTimeout(timer);
          search();
        }
      } else if (event.key === "Escape" && isOpen) {
        event.preventDefault(); // closes the list, not the form
        event.stopPropagation();
        close();
      }
    });

    input.addEventListener("blur", close);

    return {
      clear: function () {
        chosen.replaceChildren();
        status.textContent = "";
        input.value = "";
        close();
      },
      set: function (items) {
        items.forEach(choose);
        status.textContent = "";
      },
      choose: choose,
      input: input,
      status: status
    };
  };
})();
