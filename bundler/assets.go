package bundler

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Imports of a file with a query, as Vite has them: "./logo.svg?url" is the
// file's URL, "?raw" its contents as a string, "?inline" a data: URL. The
// query picks the loader whatever the file's type, in every mode.
var assetQueries = map[string]api.Loader{
	"url":    api.LoaderFile,
	"raw":    api.LoaderText,
	"inline": api.LoaderDataURL,
}

// assetQuery matches an import with one of assetQueries.
var assetQuery = regexp.MustCompile(`\?(url|raw|inline)$`)

// assetLoad is the PluginData of a file imported with an asset query.
type assetLoad struct{ loader api.Loader }

// assetsPlugin resolves imports with an asset query to their file, loaded
// with the query's loader. An absolute path ("/logo.svg?raw") is a URL
// path: the file under public/ when it is there (it is served at that
// URL), else under the root.
func (b *Bundler) assetsPlugin() api.Plugin {
	return api.Plugin{Name: "devserve-assets", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: assetQuery.String()}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			loc := assetQuery.FindStringIndex(a.Path)
			spec, query := a.Path[:loc[0]], a.Path[loc[0]+1:]
			load := assetLoad{assetQueries[query]}
			if strings.HasPrefix(spec, "/") {
				for _, dir := range []string{"public", "."} {
					p := filepath.Join(b.root, dir, filepath.FromSlash(strings.TrimPrefix(spec, "/")))
					if rel, ok := b.relInput(p); ok && !strings.HasPrefix(rel, "..") {
						if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
							return api.OnResolveResult{Path: p, Suffix: "?" + query, PluginData: load}, nil
						}
					}
				}
				return api.OnResolveResult{Errors: []api.Message{{Text: fmt.Sprintf("Could not find %q under public/ or the root", spec)}}}, nil
			}
			r := pb.Resolve(spec, api.ResolveOptions{Importer: a.Importer, Namespace: a.Namespace,
				ResolveDir: a.ResolveDir, Kind: a.Kind, PluginData: resolveMark{}})
			if len(r.Errors) > 0 || r.Namespace != "file" {
				return api.OnResolveResult{Errors: r.Errors, Warnings: r.Warnings}, nil
			}
			return api.OnResolveResult{Path: r.Path, Suffix: "?" + query, PluginData: load}, nil
		})
		// Every load of a file comes here (an asset query is in the
		// PluginData, not the path); in-process, that costs little.
		pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "file"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			load, ok := a.PluginData.(assetLoad)
			if !ok {
				res, _ := b.globLoad(a.Path) // nothing for a file without import.meta.glob
				return res, nil
			}
			data, err := os.ReadFile(a.Path)
			if err != nil {
				return api.OnLoadResult{}, err
			}
			s := string(data)
			return api.OnLoadResult{Contents: &s, Loader: load.loader, ResolveDir: filepath.Dir(a.Path)}, nil
		})
	}}
}
