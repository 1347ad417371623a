package watcher_test

import (
	"fmt"
	"log"

	"github.com/devserve/devserve/watcher"
)

func Example() {
	w, err := watcher.New("./web", watcher.Options{Ignore: []string{"dist", "*.log"}})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	errs := w.Errors()
	for {
		select {
		case batch, ok := <-w.Batches():
			if !ok {
				return // closed
			}
			for _, c := range batch {
				fmt.Println(c.Op, c.Path) // e.g. "changed src/app.ts"
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			log.Print(err) // the watcher goes on
		}
	}
}
