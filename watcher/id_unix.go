//go:build unix

package watcher

import (
	"io/fs"
	"syscall"
)

// fileID identifies a folder however it is named: inotify's watches follow
// it by this, not by its path.
type fileID struct{ dev, ino uint64 }

func idOf(info fs.FileInfo) (fileID, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}
