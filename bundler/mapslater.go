package bundler

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// This file is Options.MapsOnRequest: bundles built without their source
// maps, each map made when it is asked for. esbuild's output with a
// linked map is its output without one and the comment that names the
// map, so a build with the map, made later, gives the map of the bytes
// served if no input changed since; mapOnRequest checks that it did give
// those bytes before it serves the map.

// madeMap is a map that mapOnRequest made, and the output it maps.
type madeMap struct {
	of, sourceMap *Output
}

// nameMaps ends each script and stylesheet of st, built without a map,
// with the comment that names its map, as esbuild ends them with a linked
// one: the browser, DevTools and the overlay then ask for the map.
func (st *ctxState) nameMaps() {
	for i, o := range st.outputs {
		var comment string
		switch o.Kind {
		case JS:
			comment = "//# sourceMappingURL=" + path.Base(o.Path) + ".map\n"
		case CSS:
			comment = "/*# sourceMappingURL=" + path.Base(o.Path) + ".map */\n"
		default:
			continue
		}
		named := *o
		named.Contents = append(o.Contents[:len(o.Contents):len(o.Contents)], comment...)
		named.Hash = hashHex(named.Contents)
		st.outputs[i] = &named
	}
}

// mapOnRequest returns the source map at urlPath of a script or
// stylesheet served without its map (Options.MapsOnRequest): made before
// for the very output served, or made now by building its entry again
// with maps, provided that build gives, byte for byte, the output served
// (a file changed since the build that made it gives other bytes; the
// next Build serves them, with their map on request). It holds buildMu, so
// no build changes what is served meanwhile.
func (b *Bundler) mapOnRequest(urlPath string) (*Output, bool) {
	of, ok := strings.CutSuffix(urlPath, ".map")
	if !b.mapsOnRequest || !ok {
		return nil, false
	}
	b.buildMu.Lock()
	defer b.buildMu.Unlock()
	b.mu.Lock()
	out, made := b.served[of], b.mapsMade[urlPath]
	var c *entryCtx
	for _, x := range b.ctxs {
		if x.state != nil && slices.Contains(x.state.outputs, out) {
			c = x
		}
	}
	closed := b.closed
	b.mu.Unlock()
	switch {
	case closed || out == nil || c == nil || (out.Kind != JS && out.Kind != CSS):
		return nil, false
	case made.of == out:
		return made.sourceMap, true
	}
	opts := c.opts
	opts.Sourcemap = api.SourceMapLinked
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		b.log.Debug("bundler: the build of a source map failed", "entry", c.entry, "errors", len(res.Errors))
		return nil, false
	}
	st, _, err := b.collect(c, &res)
	if err != nil {
		return nil, false
	}
	var same bool
	var sourceMap *Output
	for _, o := range st.outputs {
		switch o.Path {
		case of:
			same = bytes.Equal(o.Contents, out.Contents)
		case urlPath:
			sourceMap = o
		}
	}
	if !same || sourceMap == nil {
		b.log.Debug("bundler: the build of a source map made other code than the one served; not serving it", "output", of)
		return nil, false
	}
	b.mu.Lock()
	if b.mapsMade == nil {
		b.mapsMade = map[string]madeMap{}
	}
	b.mapsMade[urlPath] = madeMap{of: out, sourceMap: sourceMap}
	b.mu.Unlock()
	return sourceMap, true
}
