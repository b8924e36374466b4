// The search page's summaries (loaded on search.html only, after Sphinx's searchtools.js).
// Sphinx quotes each hit's page as plain text: the LaTeX source of its maths and the labels of
// the theme's buttons. Here the buttons and side panels are left out, a formula cut in half at
// either end of the excerpt is dropped, and the rest is typeset by the site's own MathJax.
(() => {
  if (typeof Search === "undefined" || !Search.htmlToText || !Search.makeSearchSummary) return;

  const LEAVE_OUT = [
    ".headerlink", "script", "style", ".bd-header-article", ".bd-sidebar-secondary",
    ".prev-next-area", ".bd-footer-article", ".onlyprint",
  ];
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    LEAVE_OUT.forEach((q) => doc.querySelectorAll(q).forEach((el) => el.remove()));
    const main = doc.querySelector('[role="main"]');
    let block = main;
    if (anchor && main) {
      try {
        block = main.querySelector(anchor) || main;
      } catch (e) {
        block = main;
      }
    }
    return block ? block.textContent.replace(/\s+/g, " ") : "";
  };

  // Drop a formula whose opening (or closing) delimiter fell outside the excerpt.
  const balance = (text) => {
    for (const [open, close] of [["\\(", "\\)"], ["\\[", "\\]"]]) {
      const firstClose = text.indexOf(close);
      const firstOpen = text.indexOf(open);
      if (firstClose > -1 && (firstOpen === -1 || firstClose < firstOpen)) {
        text = "..." + text.slice(firstClose + close.length);
      }
      const lastOpen = text.lastIndexOf(open);
      if (lastOpen > -1 && text.indexOf(close, lastOpen) === -1) {
        text = text.slice(0, lastOpen) + "...";
      }
    }
    return text;
  };

  const makeSummary = Search.makeSearchSummary;
  Search.makeSearchSummary = (htmlText, keywords, anchor) => {
    const summary = makeSummary(htmlText, keywords, anchor);
    if (!summary) return summary;
    summary.textContent = balance(summary.textContent);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise
        .then(() => MathJax.typesetPromise([summary]))
        .catch((err) => console.warn("MathJax could not typeset a search summary", err));
    }
    return summary;
  };
})();
