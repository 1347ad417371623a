// esbuild's own dev server with live reload, as its documentation sets it up:
// an incremental context that watches its inputs and serves DIR with the
// build outputs of DIR/main.js and DIR/style.css under /out/ (from memory).
// After each rebuild esbuild sends a `change` event on /esbuild; the page's
// snippet `new EventSource('/esbuild').addEventListener('change', () =>
// location.reload())` reloads it.
//
// Usage: node esbuild-serve.cjs DIR PORT
// Used by `go run ./bench` (tool "esbuild"); not part of devserve.
'use strict';

const esbuild = require('esbuild');

async function main() {
  const [dir, port] = process.argv.slice(2);
  if (!dir || !port) {
    throw new Error('usage: node esbuild-serve.cjs DIR PORT');
  }
  const ctx = await esbuild.context({
    absWorkingDir: dir,
    entryPoints: ['main.js', 'style.css'],
    bundle: true,
    format: 'esm',
    outdir: 'out',
    logLevel: 'warning',
  });
  const stop = () => ctx.dispose().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await ctx.watch();
  const server = await ctx.serve({ servedir: dir, host: '127.0.0.1', port: Number(port) });
  console.log(`esbuild ${esbuild.version} serving ${dir} on http://${server.hosts[0]}:${server.port}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
