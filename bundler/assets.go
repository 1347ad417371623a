package bundler

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Imports of a file with a query, as Vite has them: "./logo.svg?url" is the
// file's URL, "?raw" its contents as a string, "?inline" a data: URL (a
// stylesheet's built CSS as a string: see inlinecss.go). The query picks
// the loader whatever the file's type, in every mode.
var assetQueries = map[string]api.Loader{
	"url":    api.LoaderFile,
	"raw":    api.LoaderText,
	"inline": api.LoaderDataURL,
}

// assetQuery matches an import with one of assetQueries, or a worker's
// query (see workerModule).
var assetQuery = regexp.MustCompile(`\?(url|raw|inline|(?:shared)?worker(?:&(?:url|inline))?)$`)

// assetLoad is the PluginData of a file imported with an asset query.
type assetLoad struct {
	loader api.Loader
	worker string // "worker" or "sharedworker": the import asks for a worker of the file
	url    bool   // with "&url": the worker script's URL alone
}

// queryLoad is the load of a file imported with query, one that assetQuery
// matches, without its "?".
func queryLoad(query string) assetLoad {
	if l, ok := assetQueries[query]; ok {
		return assetLoad{loader: l}
	}
	kind, opt, _ := strings.Cut(query, "&")
	return assetLoad{loader: api.LoaderJS, worker: kind, url: opt == "url"}
}

// workerFileQuery marks the URL of a worker's script, as Vite's does: the
// server builds the file for a worker (Worker) when the query or the
// browser's Sec-Fetch-Dest says that a worker asks for it.
const workerFileQuery = "worker_file&type=module"

// workerModule is the module of a file of the project at root-relative rel
// imported as Vite's worker imports have it: "./worker.ts?worker" exports
// a constructor of a module Worker that runs the file, built for it
// (Worker), "?sharedworker" of a SharedWorker; with "&url" the module is
// the script's URL. "&inline", which in Vite's builds puts the worker's
// code into a Blob, is the same as without, as in Vite's dev server. A
// file of PublicDir is served as it is, at its URL.
func (b *Bundler) workerModule(rel string, load assetLoad) string {
	u := (&url.URL{Path: b.urlBase + rel}).EscapedPath() + "?" + workerFileQuery
	if b.production {
		u = (&url.URL{Path: b.productionWorker(b.urlBase + rel)}).EscapedPath()
	}
	if IsPublic(rel) {
		u = (&url.URL{Path: b.urlBase + strings.TrimPrefix(rel, PublicDir+"/")}).EscapedPath()
	}
	q, _ := json.Marshal(u)
	if load.url {
		return "export default " + string(q) + ";\n"
	}
	ctor := "Worker"
	if load.worker == "sharedworker" {
		ctor = "SharedWorker"
	}
	return "export default function " + ctor + "Wrapper(options) {\n" +
		"  return new " + ctor + "(" + string(q) + ", { type: \"module\", name: options?.name });\n}\n"
}

// assetsPlugin resolves imports with an asset query to their file, loaded
// with the query's loader. An absolute path ("/logo.svg?raw") is a URL
// path: the file under public/ when it is there (it is served at that
// URL), else under the root.
func (b *Bundler) assetsPlugin() api.Plugin {
	return api.Plugin{Name: "devserve-assets", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: assetQuery.String()}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			loc := assetQuery.FindStringIndex(a.Path)
			spec, query := a.Path[:loc[0]], a.Path[loc[0]+1:]
			load := queryLoad(query)
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
			if _, inRoot := b.relInput(r.Path); load.worker != "" && !inRoot {
				return api.OnResolveResult{Errors: []api.Message{{Text: fmt.Sprintf(
					"%s is outside the project's folder: a worker is served from the folder devserve serves", r.Path)}}}, nil
			}
			return api.OnResolveResult{Path: r.Path, Suffix: "?" + query, PluginData: load}, nil
		})
		// Every load of a file comes here (an asset query is in the
		// PluginData, not the path); in-process, that costs little.
		pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "file"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			load, ok := a.PluginData.(assetLoad)
			if !ok && isSass(a.Path) {
				return b.sassLoad(a.Path), nil
			}
			if !ok {
				res, _ := b.globLoad(a.Path) // nothing for a file without import.meta.glob
				return res, nil
			}
			if load.worker != "" {
				rel, _ := b.relInput(a.Path)
				code := b.workerModule(rel, load)
				return api.OnLoadResult{Contents: &code, Loader: api.LoaderJS}, nil
			}
			if load.loader == api.LoaderDataURL && isCSSFile(a.Path) {
				css, errs := b.inlineCSS(a.Path)
				if errs != nil {
					return api.OnLoadResult{Errors: errs}, nil
				}
				return api.OnLoadResult{Contents: &css, Loader: api.LoaderText}, nil
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
