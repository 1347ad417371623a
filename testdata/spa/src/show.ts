// show writes the app's name and route into #out once #data holds
// public/data.txt, so that a test sees both at once.
export async function show(app: string): Promise<void> {
  const res = await fetch("/data.txt");
  document.getElementById("data")!.textContent = (await res.text()).trim();
  document.getElementById("out")!.textContent = app + " " + location.pathname;
}
