// The app's script, bundled by devserve in development. It counts clicks
// and does what htmx would do with the button: fetch the partial.
const count = document.getElementById("count")!;
const button = document.getElementById("more") as HTMLButtonElement;
let clicks = 0;

button.addEventListener("click", async () => {
  clicks++;
  count.textContent = `${clicks} click${clicks === 1 ? "" : "s"}`;
  const res = await fetch(button.getAttribute("hx-get") ?? "/greeting", { headers: { "HX-Request": "true" } });
  document.getElementById("greeting")!.innerHTML = await res.text();
});
