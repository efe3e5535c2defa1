// The frame's small behaviours. Alpine's CSP build cannot evaluate expressions written in HTML
// attributes: register components here (or in an area's own file loaded before Alpine) with
// Alpine.data("name", () => ({...})) inside the "alpine:init" listener.
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  // <select data-autosubmit>: the acting-organisation picker submits on change.
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

document.addEventListener("alpine:init", () => {
  // Frame components go here; areas may add their own in the same way.
});
