package hmr

import (
	"github.com/devserve/devserve/client"
	"github.com/evanw/esbuild/pkg/api"
)

// script is one of the client's scripts as the server sends it.
type script struct {
	body []byte
	etag string
}

// clientScripts are the client's scripts by URL path, minified by esbuild
// (every page loads them; minified they are about half the bytes), or as
// written if minifying fails.
func clientScripts() map[string]script {
	out := map[string]script{}
	for p, src := range map[string][]byte{
		ClientPath:        client.Source(),
		WorkerPath:        client.WorkerSource(),
		client.HMRPath:    client.HMRSource(),
		client.ErrorsPath: client.ErrorsSource(),
	} {
		r := api.Transform(string(src), api.TransformOptions{
			Loader:            api.LoaderJS,
			Target:            api.ES2020,
			MinifyWhitespace:  true,
			MinifySyntax:      true,
			MinifyIdentifiers: true,
			LogLevel:          api.LogLevelSilent,
		})
		if len(r.Errors) == 0 {
			src = r.Code
		}
		out[p] = script{body: src, etag: etagOf(src)}
	}
	return out
}
