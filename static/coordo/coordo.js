// Coordo's own behaviour, from its origin (the Content-Security-Policy allows no inline
// script): print buttons, and filters that apply as soon as they change.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});
