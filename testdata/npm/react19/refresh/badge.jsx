export const badgeText = "badge text 0";

export function Badge() {
  return <span id="badge">badge 0</span>;
}
