let state = {};

export function render(next) {
  state = { ...state, ...next };
  document.querySelector(".file-delete-restore").textContent = `${state.parent}:${state.child}`;
}

export function rerender(next) {
  render(next);
}
