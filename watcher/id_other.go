//go:build !unix

package watcher

import "io/fs"

// fileID identifies a folder however it is named, where the system says
// how; here it does not.
type fileID struct{}

func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }
