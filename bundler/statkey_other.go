//go:build !linux

package bundler

import "io/fs"

// statKey names a file's version by what the system records of it, where
// this package knows how to read a change time (Linux); elsewhere "": the
// content is what tells.
func statKey(fs.FileInfo) string { return "" }
