// Command devserve serves a web project while you edit it: a file watcher
// triggers esbuild rebuilds and the browser updates over Server-Sent Events.
package main

import "github.com/devserve/devserve/cmd"

func main() {
	cmd.Execute()
}
