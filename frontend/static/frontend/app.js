// Behaviour shared by every page. The pages work without it; this only keeps keyboard focus sensible.

// When HTMX replaces the search results, the facet link that was clicked is gone: move focus to the results heading
// so keyboard users continue from the new results and screen readers announce the new count.
document.addEventListener("htmx:afterSettle", () => {
  const heading = document.querySelector("#search-results .results__title");
  if (heading) {
    heading.focus();
  }
});
