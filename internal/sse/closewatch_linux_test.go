package sse

// watching returns how many streams b's closeWatcher watches, or -1 if it
// has none.
func watching(b *Broker) int {
	if b.closer == nil {
		return -1
	}
	b.closer.mu.Lock()
	defer b.closer.mu.Unlock()
	return len(b.closer.streams)
}
