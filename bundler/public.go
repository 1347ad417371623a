package bundler

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// PublicDir is the folder under Root whose files are served at "/" as they
// are, Vite's convention: <Root>/public/robots.txt is "/robots.txt". Its
// files are not sources: their pages are not searched for entries, a
// change to them builds nothing, and WriteSite copies them to the root of
// the output folder untouched.
const PublicDir = "public"

// IsPublic reports whether a root-relative slash path is the public folder
// or lies under it.
func IsPublic(rel string) bool {
	return rel == PublicDir || strings.HasPrefix(rel, PublicDir+"/")
}

// publicPlugin keeps absolute URLs to files of the public folder as they
// are written: url("/moon.svg") in CSS, import "/moon.svg" in JS. esbuild
// would otherwise read "/moon.svg" as a path from the file system's root
// and fail; the dev server and the built site serve the file at that URL.
// Under a base path, a url() of CSS gets the base, as the browser fetches
// it: url("/moon.svg") is url("/app/moon.svg"). Every context's options
// carry it (esbuildOptions).
func publicPlugin(root, base string) api.Plugin {
	dir := filepath.Join(root, PublicDir)
	return api.Plugin{Name: "devserve-public", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: `^/[^/]`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			if a.Kind == api.ResolveEntryPoint || !publicFileExists(dir, a.Path) {
				return api.OnResolveResult{}, nil
			}
			p := a.Path
			if a.Kind == api.ResolveCSSURLToken || a.Kind == api.ResolveCSSImportRule {
				p = withBase(base, p)
			}
			return api.OnResolveResult{Path: p, External: true}, nil
		})
	}}
}

// publicFileExists reports whether the absolute URL path ref (query and
// fragment allowed) names a regular file of the public folder dir, by the
// rules the server serves it with: no "." or ".." segments, no dot names,
// no backslashes.
func publicFileExists(dir, ref string) bool {
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		ref = ref[:i]
	}
	if p, err := url.PathUnescape(ref); err == nil {
		ref = p
	}
	rel := strings.TrimPrefix(ref, "/")
	if rel == "" || strings.ContainsAny(rel, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return false
		}
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}
