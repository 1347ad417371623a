// webpack-dev-server as a plain webpack 5 project sets it up: DIR/main.js is
// bundled in development mode and served from memory under /out/; DIR itself
// is served as static files (index.html, style.css). Hot module replacement
// is on: hot.js accepts its updates (import.meta.webpackHot) and is replaced
// in place; an edit of any other module reloads the page, and so does an
// edit of style.css (a static file, listed in watchFiles).
//
// Usage: node webpack-serve.cjs DIR PORT
// Used by `go run ./bench` (tool "webpack"); not part of devserve.
'use strict';

const path = require('path');
const webpack = require('webpack');
const WebpackDevServer = require('webpack-dev-server');

async function main() {
  const [dir, port] = process.argv.slice(2);
  if (!dir || !port) {
    throw new Error('usage: node webpack-serve.cjs DIR PORT');
  }
  const compiler = webpack({
    mode: 'development',
    context: dir,
    entry: './main.js',
    output: { path: path.join(dir, 'out'), publicPath: '/out/', filename: 'main.js' },
    infrastructureLogging: { level: 'warn' },
    stats: 'errors-warnings',
  });
  const server = new WebpackDevServer(
    {
      host: '127.0.0.1',
      port: Number(port),
      hot: true,
      liveReload: true,
      static: { directory: dir, watch: false },
      watchFiles: [path.join(dir, 'index.html'), path.join(dir, 'style.css')],
      client: { overlay: false, logging: 'warn' },
    },
    compiler,
  );
  const stop = () => server.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await server.start();
  console.log(`webpack ${webpack.version} serving ${dir} on http://127.0.0.1:${port}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
