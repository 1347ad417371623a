//go:build !linux

package sse

// watching returns -1: only Linux has a closeWatcher.
func watching(*Broker) int { return -1 }
