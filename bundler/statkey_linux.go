package bundler

import (
	"fmt"
	"io/fs"
	"syscall"
)

// statKey names a file's version by what the system records of it: its
// size, modification and change times, device and inode, as git's index
// does. Tools can set a file's modification time back (tar, rsync -t), not
// its change time, which any write, rename or chmod moves on. "" where the
// system gives less (then the content is what tells).
func statKey(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d %d %d.%d %d %d", fi.Size(), fi.ModTime().UnixNano(), st.Ctim.Sec, st.Ctim.Nsec, st.Dev, st.Ino)
}
