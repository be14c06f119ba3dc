/* Village picker: township → village, with a type-to-search box that works with a Chinese
 * input method. Progressive enhancement of the server-rendered widget
 * (apps/organisation/templates/widgets/village_picker.html): without this script the page has
 * one <select> of villages grouped by township and works the same.
 *
 * With it: the township <select> and the search box are shown, the village <select> becomes a
 * list (size > 1) that shows the chosen township's villages or the search results, and the
 * value travels in a hidden input so that filtering the list never loses the choice.
 * Filtering waits while an input method is composing (pinyin is not a village name): it runs on
 * `input` events outside composition and once more on `compositionend`. */
(function () {
  "use strict";
  if (window.zcPlacePicker) return; // the widget template may include this script more than once
  window.zcPlacePicker = { enhance: enhance };

  var LIST_ROWS = 7;

  function normalise(text) {
    var s = String(text || "");
    if (s.normalize) s = s.normalize("NFKC"); // full-width letters and digits
    return s.replace(/\s+/g, "").toLowerCase();
  }

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function enhance(root) {
    if (root.getAttribute("data-enhanced") === "1") return;
    var select = root.querySelector("select[name]");
    var controls = root.querySelector(".pp-controls");
    if (!select || !controls) return;
    root.setAttribute("data-enhanced", "1");
    var township = controls.querySelector(".pp-township");
    var search = controls.querySelector(".pp-search");
    var status = controls.querySelector(".pp-status");
    var chosenLine = controls.querySelector(".pp-chosen");

    // The data: read once from the server-rendered optgroups.
    var groups = [];
    var byValue = {};
    Array.prototype.forEach.call(select.children, function (child) {
      if (child.tagName !== "OPTGROUP") return;
      var group = { name: child.label, villages: [] };
      Array.prototype.forEach.call(child.children, function (option) {
        var village = { value: option.value, name: option.textContent, key: normalise(option.textContent), group: group };
        group.villages.push(village);
        byValue[village.value] = village;
      });
      groups.push(group);
    });

    // The value travels in a hidden input; the list is only where it is chosen.
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = select.name;
    hidden.value = select.value;
    select.removeAttribute("name");
    if (select.required) {
      select.required = false;
      select.setAttribute("aria-required", "true");
    }
    root.appendChild(hidden);
    select.classList.add("pp-list");
    select.setAttribute("aria-describedby", chosenLine.id);
    controls.hidden = false;

    var composing = false;
    var lastQuery = null;

    function groupOf(value) {
      var village = byValue[value];
      return village ? village.group : null;
    }

    function showChosen() {
      var village = byValue[hidden.value];
      chosenLine.textContent = village
        ? format(root.getAttribute("data-msg-chosen"), { village: village.name, township: village.group.name })
        : root.getAttribute("data-msg-unchosen");
      chosenLine.classList.toggle("pp-none", !village);
    }

    function choose(value) {
      hidden.value = byValue[value] ? value : "";
      var group = groupOf(hidden.value);
      if (group) township.value = group.name;
      showChosen();
    }

    // Render a list of villages, grouped by township in the order given.
    function render(villages) {
      select.textContent = "";
      var current = null;
      var rows = 0;
      villages.forEach(function (village) {
        if (!current || current.group !== village.group) {
          current = { group: village.group, element: document.createElement("optgroup") };
          current.element.label = village.group.name;
          select.appendChild(current.element);
          rows += 1;
        }
        var option = document.createElement("option");
        option.value = village.value;
        option.textContent = village.name;
        option.selected = village.value === hidden.value;
        current.element.appendChild(option);
        rows += 1;
      });
      if (!villages.some(function (v) { return v.value === hidden.value; })) select.selectedIndex = -1;
      select.size = Math.max(2, Math.min(LIST_ROWS, rows));
      showSelected();
    }

    // Scroll the list (never the page) so that the chosen village is in sight.
    function showSelected() {
      var option = select.selectedIndex < 0 ? null : select.options[select.selectedIndex];
      select.scrollTop = option ? Math.max(0, option.offsetTop - select.offsetTop - select.clientHeight / 3) : 0;
    }

    function villagesOfTownship() {
      var name = township.value;
      var chosenGroups = groups.filter(function (g) { return !name || g.name === name; });
      var list = [];
      chosenGroups.forEach(function (g) { list = list.concat(g.villages); });
      return list;
    }

    function matches(query) {
      var q = normalise(query);
      var stem = q.replace(/(村|社区|居委会|村委会)$/, "");
      if (stem) q = stem;
      var starts = [];
      var contains = [];
      groups.forEach(function (g) {
        g.villages.forEach(function (v) {
          var at = v.key.indexOf(q);
          if (at === 0) starts.push(v);
          else if (at > 0) contains.push(v);
        });
      });
      // Names that start with the query first; each part keeps the townships' order, so the
      // groups stay together within it.
      return starts.concat(contains);
    }

    function filter() {
      var query = search.value.trim();
      if (query === lastQuery) return;
      lastQuery = query;
      if (!query) {
        render(villagesOfTownship());
        status.textContent = "";
        return;
      }
      var found = matches(query);
      render(found);
      if (found.length === 1) {
        choose(found[0].value);
        select.value = found[0].value;
      }
      status.textContent = found.length
        ? format(root.getAttribute("data-msg-found"), { n: found.length })
        : format(root.getAttribute("data-msg-none"), { q: query });
    }

    township.addEventListener("change", function () {
      var group = groupOf(hidden.value);
      if (group && township.value !== "" && group.name !== township.value) choose("");
      search.value = "";
      lastQuery = null;
      filter();
    });

    search.addEventListener("compositionstart", function () {
      composing = true;
    });
    search.addEventListener("compositionend", function () {
      composing = false;
      filter();
    });
    search.addEventListener("input", function (event) {
      if (composing || event.isComposing) return;
      filter();
    });
    search.addEventListener("keydown", function (event) {
      // Enter or arrows confirm a candidate while the input method is composing: leave them be.
      if (event.isComposing || composing || event.keyCode === 229) return;
      if (event.key === "Enter" || event.key === "ArrowDown") {
        event.preventDefault(); // Enter here must not submit the form
        filter();
        if (!select.options.length) return;
        // With search results and nothing chosen among them, the first result is the one meant.
        if (select.selectedIndex < 0 && search.value.trim()) {
          select.selectedIndex = 0;
          choose(select.value);
        }
        select.focus();
      }
    });

    select.addEventListener("change", function () {
      choose(select.value);
    });
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // confirm the choice, never submit from the list
        choose(select.value);
      }
    });

    render(villagesOfTownship());
    showChosen();
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-place-picker]"), enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhanceAll);
  else enhanceAll();
})();
