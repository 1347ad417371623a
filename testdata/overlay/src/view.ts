// Tests of the error overlay rewrite this module: it is what main.ts
// renders, and main.ts takes its updates.
export function view(text: string): string {
  return `view ${text}`;
}
