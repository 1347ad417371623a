// A tiny JSX factory so the fixture needs no React.
export type Child = Node | string | number | null | undefined | false | Child[];

export function h(tag: string, props: Record<string, string> | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) el.setAttribute(name, value);
  el.append(...flatten(children));
  return el;
}

export function Fragment(_props: null, ...children: Child[]): DocumentFragment {
  const frag = document.createDocumentFragment();
  frag.append(...flatten(children));
  return frag;
}

function flatten(children: Child[]): (Node | string)[] {
  const out: (Node | string)[] = [];
  for (const c of children) {
    if (Array.isArray(c)) out.push(...flatten(c));
    else if (c instanceof Node) out.push(c);
    else if (c !== null && c !== undefined && c !== false) out.push(String(c));
  }
  return out;
}
