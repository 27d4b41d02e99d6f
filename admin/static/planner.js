// The planner page without a round trip: a period's name, as it is typed, names it in
// every day's "period" list. The page works the same without this script.
(function () {
  "use strict";
  document.querySelectorAll("input[data-period]").forEach(function (input) {
    var index = input.dataset.period;
    input.addEventListener("input", function () {
      var name = input.value.trim() || input.placeholder;
      document.querySelectorAll("select[data-slot-period] option[value='" + index + "']")
        .forEach(function (option) { option.textContent = name; });
    });
  });
})();
