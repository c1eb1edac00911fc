// Coordo's own behaviour, from its origin (the Content-Security-Policy allows no inline
// script): print buttons, and filters that apply as soon as they change.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});

// Phones: a table never widens the page. Each table scrolls inside its own box (reachable by
// the keyboard when it does scroll); a table marked "stack" becomes one card per row on a
// narrow screen, each cell labelled by its column header.
function coordoTables(root) {
  root.querySelectorAll(".coordo table").forEach((table) => {
    let box = table.parentElement;
    if (!box.classList.contains("table-scroll")) {
      box = document.createElement("div");
      box.className = "table-scroll";
      table.before(box);
      box.append(table);
    }
    if (table.classList.contains("stack")) {
      const heads = [...table.querySelectorAll("thead tr:last-child th")].map((th) => th.textContent.trim());
      table.querySelectorAll("tbody tr, tfoot tr").forEach((tr) => {
        let column = 0;
        [...tr.children].forEach((cell) => {
          if (heads[column] && cell.colSpan === 1 && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[column]);
          column += cell.colSpan || 1;
        });
      });
    }
  });
  coordoScrollBoxes(root);
}
function coordoScrollBoxes(root) {
  root.querySelectorAll(".coordo .table-scroll").forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      const caption = box.querySelector("caption");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", caption ? caption.textContent.trim() : document.documentElement.lang === "en" ? "Table (scrolls sideways)" : "Tableau (défile horizontalement)");
    } else if (!scrolls && box.getAttribute("tabindex") === "0") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  });
}
coordoTables(document);
document.addEventListener("turbo:load", () => coordoTables(document));
// Widths change once the page's fonts are in, and with the window.
window.addEventListener("load", () => coordoScrollBoxes(document));
if (document.fonts) document.fonts.ready.then(() => coordoScrollBoxes(document));
window.addEventListener("resize", () => coordoScrollBoxes(document));
// A table inside a closed <details> measures 0 wide at load: measured again when it opens
// ("toggle" does not bubble, hence the capture phase).
document.addEventListener("toggle", (event) => {
  if (event.target instanceof HTMLDetailsElement && event.target.open) coordoScrollBoxes(event.target);
}, true);
