package hmr

// A save's compile begins before its batch goes out: the watcher notices
// a file changing in a save (watcher.Options.Noticed) a quiet window
// before the batch, and bundler.Prepare compiles it meanwhile, which the
// build then takes where it is what the build would make (issue #14: the
// way from a save to the screen).

// noticed hands the path of a file that the watcher noticed changing to
// prepareSaves; a path already waiting is replaced, as the later save is
// the one to prepare.
func (s *Server) noticed(path string) {
	for {
		select {
		case s.saves <- path:
			return
		default:
		}
		select {
		case <-s.saves:
		default:
		}
	}
}

// prepareSaves starts the goroutine that runs bundler.Prepare for the
// files noticed, which Close stops.
func (s *Server) prepareSaves() {
	s.extras.Go(func() {
		for {
			select {
			case <-s.quit:
				return
			case p := <-s.saves:
				s.current().Prepare(p)
			}
		}
	})
}
