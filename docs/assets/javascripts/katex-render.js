// Typeset the math that pymdownx.arithmatex (generic mode) leaves in
// <span class="arithmatex">\(...\)</span> and <div class="arithmatex">\[...\]</div>.
// KaTeX and its fonts are served from docs/assets/vendor (no CDN).
function renderArithmatex(root) {
  root.querySelectorAll(".arithmatex").forEach(function (el) {
    renderMathInElement(el, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: false,
    });
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(function () { renderArithmatex(document.body); });
} else {
  document.addEventListener("DOMContentLoaded", function () { renderArithmatex(document.body); });
}
