// new URL(..., import.meta.url) in a module of a folder below the entry's:
// in a bundle, import.meta.url is the entry's (see bundler/metaurl.go).
export const nested = new URL("../logo.svg", import.meta.url).pathname;
export const icon = (name) => new URL(`./${name}.svg`, import.meta.url).pathname;
