package hmr

import "github.com/devserve/devserve/client"

// script is one of the client's scripts as the server sends it.
type script struct {
	body []byte
	etag string
}

// clientScripts are the client's scripts by URL path, minified (see
// client.Minified).
func clientScripts() map[string]script {
	out := map[string]script{}
	for _, p := range []string{ClientPath, WorkerPath, client.HMRPath, client.ErrorsPath} {
		src := client.Minified(p)
		out[p] = script{body: src, etag: etagOf(src)}
	}
	return out
}
