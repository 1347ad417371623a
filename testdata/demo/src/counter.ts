// counter counts clicks on a button: state that a reload loses and a hot
// update keeps.
export function counter(button: HTMLButtonElement): void {
  let clicks = 0;
  button.addEventListener("click", () => {
    clicks++;
    button.textContent = `clicked ${clicks} ${clicks === 1 ? "time" : "times"}`;
  });
}
