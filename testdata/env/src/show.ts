const prefix: string = import.meta.env.VITE_PREFIX ?? "";

export function show(id: string, text: string): void {
  document.getElementById(id)!.textContent = prefix + text;
}
