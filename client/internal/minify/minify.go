// Package minify minifies the client's scripts as devserve serves them.
// go generate (client/internal/minify/gen) writes them into client/min
// with Script, so that a server does not minify them when it starts
// (about 11 ms of a 33 ms start at 10 modules); client's tests check that
// those files are what Script makes of the scripts as they are now.
package minify

import (
	"errors"

	"github.com/evanw/esbuild/pkg/api"
)

// Names are the scripts of package client that go out minified, as named
// in its folder and in client/min.
var Names = []string{"client.js", "errors.js", "hmr.js", "worker.js"}

// Script returns the JavaScript src minified by esbuild: whitespace,
// syntax and identifiers, for the browsers of ES2020.
func Script(src []byte) ([]byte, error) {
	r := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifySyntax:      true,
		MinifyIdentifiers: true,
		LogLevel:          api.LogLevelSilent,
	})
	if len(r.Errors) > 0 {
		return nil, errors.New(r.Errors[0].Text)
	}
	return r.Code, nil
}
