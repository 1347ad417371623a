//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Results is the JSON file the harness writes: every sample of the run.
type Results struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Command  []string          `json:"command"`
	Host     Host              `json:"host"`
	Versions map[string]string `json:"versions"`
	Method   string            `json:"method"`
	Runs     []*Run            `json:"runs"`
}

// Host describes the machine and the browser.
type Host struct {
	GOOS     string `json:"goos"`
	GOARCH   string `json:"goarch"`
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
	Node     string `json:"node,omitempty"`
	Chromium string `json:"chromium"`
}

// Run holds everything measured for one tool on one project size.
type Run struct {
	// Project is the case: "tree" (the generated module tree), "react" (the
	// generated React components) or "app" (testdata/apps/react-ts).
	Project string `json:"project"`
	Tool    string `json:"tool"`
	Version string `json:"version"`
	// Modules is the size of the project: modules of the tree, components
	// of the React project, 0 for the app.
	Modules int       `json:"modules"`
	Cold    []*Sample `json:"cold_start"`
	Restart []*Sample `json:"restart"` // started again on the same files, caches kept
	// EditedRestart: started again, caches kept, after a JS edit made
	// while the server was down.
	EditedRestart []*Sample `json:"edited_restart,omitempty"`
	JS            []*Sample `json:"js_edit"`
	CSS           []*Sample `json:"css_edit"`
	Hot           []*Sample `json:"hot_edit"` // edits of hot.js, which accepts its own updates
	// Component is the React cases' component edits.
	Component []*Sample `json:"component_edit,omitempty"`
	Bursts    []*Burst  `json:"burst"`
	Memory    *Memory   `json:"memory,omitempty"`
	// Idle is the memory while the server was left alone after the
	// steps (Config.Idle): what a tool does once its user stops typing
	// (devserve bundles for the next start) shows there.
	Idle     *IdleMemory `json:"idle_memory,omitempty"`
	Errors   []string    `json:"errors,omitempty"`
	Duration float64     `json:"duration_s"`
	// LoadAvg is the machine's load average when the run started and ended:
	// other work on the machine slows every tool.
	LoadAvg []string `json:"load_avg"`
}

// Sample is one timed event.
type Sample struct {
	// Index numbers the samples of one kind from 0.
	Index int `json:"index"`
	// Ms is the latency from the page's own timestamp of when the change
	// appeared, converted to Go's clock; 0 when it failed.
	Ms float64 `json:"ms"`
	// DetectMs is when the Go side's poll first saw the change: an upper
	// bound of Ms.
	DetectMs float64 `json:"detect_ms"`
	// ClockErrMs is the uncertainty of the page-to-Go clock conversion
	// (half the shortest round trip of the calibration).
	ClockErrMs float64 `json:"clock_err_ms"`
	// Navigated is true when a new document showed the change (a reload),
	// false when the same document updated in place.
	Navigated bool `json:"navigated"`
	// Loads is how many documents loaded between the write and the result.
	Loads int `json:"loads"`
	// StateKept, for a component edit, says whether the component's counter
	// (clicked just before the edit) still showed its count after it.
	StateKept *bool `json:"state_kept,omitempty"`
	// Fetches, for a component edit that updated the page in place, are
	// the requests the page made from the save until the text showed and
	// a little after: the first one's start is when the update reached the
	// page.
	Fetches []Fetch `json:"fetches,omitempty"`
	// Attempts is how many navigations a cold start needed.
	Attempts int `json:"attempts,omitempty"`
	// SettledMs, for a cold start of a tool with Tool.Settle, is when its
	// work after the first page was done (devserve: module mode serving,
	// and the page, which was served the bundle, running it), from the
	// spawn.
	SettledMs float64 `json:"settled_ms,omitempty"`
	// Error says why the sample failed; empty when it succeeded.
	Error string `json:"error,omitempty"`
}

// Burst is one burst of writes.
type Burst struct {
	Index int `json:"index"`
	// Files is how many files were written at once.
	Files int `json:"files"`
	// Ms is the time until the page showed both the final leaf value and the
	// final total of the tree, by the page's clock; 0 when it never did.
	Ms float64 `json:"ms"`
	// Loads is how many documents loaded, and Runs how many times main.js
	// ran, from the write until the page had been quiet for the quiet period.
	Loads int `json:"loads"`
	Runs  int `json:"runs"`
	// Final is true when the page ended showing the final content.
	Final bool `json:"final"`
	// Error says what went wrong, if anything.
	Error string `json:"error,omitempty"`
}

// WriteJSON writes r to path, creating its directory.
func (r *Results) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create results dir: %w", err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// latencies returns the Ms of the samples that succeeded.
func latencies(samples []*Sample) []float64 {
	var xs []float64
	for _, s := range samples {
		if s.Error == "" {
			xs = append(xs, s.Ms)
		}
	}
	return xs
}
