package cmd

import (
	"os"
	"testing"
)

// TestMain points the user cache folder (os.UserCacheDir), where devserve
// keeps the module cache of a project without node_modules (the tests'
// temporary projects, testdata/demo), at a temporary folder: the tests
// serve with the cache on, as users do, and leave nothing behind.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "devserve-cmd-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
