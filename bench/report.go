//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// methodNote is stored in the results to say how the numbers were taken.
const methodNote = "Latencies run from just before the Go side starts the spawn or the write to the " +
	"page's own timestamp (performance.timeOrigin + performance.now(), taken by an inline probe on DOM " +
	"mutation, load events and animation frames) of when the new text or computed color first appeared, " +
	"converted to Go's wall clock by a calibration on the same document (error: clock_err_ms). " +
	"detect_ms is when the Go poll (Runtime.evaluate, no Network domain) saw it. " +
	"Loads and runs are counted in sessionStorage by the probe and by main.js."

// printTable prints the versions and one row per tool, size and kind.
func printTable(w io.Writer, r *Results) {
	fmt.Fprintf(w, "\nchromium %s, %s, %d CPUs", r.Host.Chromium, r.Host.Go, r.Host.CPUs)
	if r.Host.Node != "" {
		fmt.Fprintf(w, ", node %s", r.Host.Node)
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(r.Versions))
	for name := range r.Versions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-9s %s\n", name, r.Versions[name])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "project\ttool\tsize\tkind\tok/n\tmedian ms\tp95 ms\tmin ms\tmax ms\t÷ devserve\t\tnotes")
	base := devserveMedians(r.Runs)
	for _, run := range r.Runs {
		for _, row := range runRows(run, base) {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	tw.Flush()
}

// medianKey names one row of the table: a project, size and kind.
type medianKey struct {
	project string
	size    int
	kind    string
}

// kinds are the kinds of samples of a run, in the order of the table.
func kinds(run *Run) []struct {
	kind    string
	samples []*Sample
} {
	return []struct {
		kind    string
		samples []*Sample
	}{{"cold start", run.Cold}, {"restart", run.Restart}, {"edited restart", run.EditedRestart}, {"js edit", run.JS}, {"component edit", run.Component},
		{"css edit", run.CSS}, {"hot edit", run.Hot}}
}

// devserveMedians returns devserve's medians by project, size and kind:
// what the other tools' medians are divided by.
func devserveMedians(runs []*Run) map[medianKey]float64 {
	base := map[medianKey]float64{}
	for _, run := range runs {
		if run.Tool != "devserve" {
			continue
		}
		for _, k := range kinds(run) {
			if s := Summarize(latencies(k.samples)); s.N > 0 && s.Median > 0 {
				base[medianKey{run.Project, run.Modules, k.kind}] = s.Median
			}
		}
	}
	return base
}

// runRows returns the table rows of one run; base holds devserve's medians
// for the ratios.
func runRows(run *Run, base map[medianKey]float64) [][]string {
	size := fmt.Sprint(run.Modules)
	if run.Project == CaseApp {
		size = "-"
	}
	head := []string{run.Project, run.Tool, size}
	var rows [][]string
	add := func(kind string, ok, n int, xs []float64, notes string) {
		s := Summarize(xs)
		row := append(slices.Clone(head), kind, fmt.Sprintf("%d/%d", ok, n))
		if s.N == 0 {
			row = append(row, "-", "-", "-", "-", "")
		} else {
			ratio := ""
			if b, ok := base[medianKey{run.Project, run.Modules, kind}]; ok && run.Tool != "devserve" {
				ratio = fmt.Sprintf("%.2f", s.Median/b)
			}
			row = append(row, ms(s.Median), ms(s.P95), ms(s.Min), ms(s.Max), ratio)
		}
		rows = append(rows, append(row, "", notes))
	}
	for _, k := range kinds(run) {
		if len(k.samples) == 0 && k.kind != "cold start" {
			continue
		}
		xs := latencies(k.samples)
		add(k.kind, len(xs), len(k.samples), xs, sampleNotes(k.kind, k.samples))
	}
	var burstMs []float64
	final := 0
	for _, b := range run.Bursts {
		if b.Ms > 0 {
			burstMs = append(burstMs, b.Ms)
		}
		if b.Final {
			final++
		}
	}
	if len(run.Bursts) > 0 {
		add("burst", final, len(run.Bursts), burstMs, burstNotes(run.Bursts))
	}
	if m := run.Memory; m != nil {
		rows = append(rows, append(slices.Clone(head), "memory", "", "", "", "", "", "", "",
			fmt.Sprintf("RSS %.1f MiB, PSS %.1f MiB, %d processes; load avg %s", mib(m.RSSBytes), mib(m.PSSBytes),
				m.Processes, strings.Join(run.LoadAvg, " -> "))))
	}
	if m := run.Idle; m != nil {
		rows = append(rows, append(slices.Clone(head), "idle memory", "", "", "", "", "", "", "",
			fmt.Sprintf("after %.0f s alone: RSS %.1f MiB, PSS %.1f MiB; peak RSS meanwhile %.1f MiB",
				m.Seconds, mib(m.After.RSSBytes), mib(m.After.PSSBytes), mib(m.PeakRSSBytes))))
	}
	for _, e := range run.Errors {
		first, _, _ := strings.Cut(e, "\n")
		rows = append(rows, append(slices.Clone(head), "error", "", "", "", "", "", "", "", first))
	}
	return rows
}

// sampleNotes says how many samples navigated, and the first failure.
func sampleNotes(kind string, samples []*Sample) string {
	if len(samples) == 0 {
		return ""
	}
	nav, kept, checked := 0, 0, 0
	var firstErr string
	for _, s := range samples {
		if s.Navigated && s.Error == "" {
			nav++
		}
		if s.StateKept != nil {
			checked++
			if *s.StateKept {
				kept++
			}
		}
		if s.Error != "" && firstErr == "" {
			firstErr, _, _ = strings.Cut(s.Error, "\n")
		}
	}
	notes := ""
	if kind != "cold start" && kind != "restart" && kind != "edited restart" {
		notes = fmt.Sprintf("page reloaded %d/%d", nav, len(samples))
	}
	var settled []float64
	for _, s := range samples {
		if s.SettledMs > 0 {
			settled = append(settled, s.SettledMs)
		}
	}
	if len(settled) > 0 {
		notes = fmt.Sprintf("settled (module mode serves the page) %.1f", Summarize(settled).Median)
	}
	if checked > 0 {
		notes += fmt.Sprintf(", state kept %d/%d", kept, checked)
	}
	if firstErr != "" {
		notes = strings.TrimPrefix(notes+"; first failure: "+firstErr, "; ")
	}
	return notes
}

// burstNotes lists the loads, runs and files of each burst.
func burstNotes(bursts []*Burst) string {
	if len(bursts) == 0 {
		return ""
	}
	var loads, runs []string
	for _, b := range bursts {
		loads = append(loads, fmt.Sprint(b.Loads))
		runs = append(runs, fmt.Sprint(b.Runs))
	}
	return fmt.Sprintf("%d files; page loads %s; main.js runs %s; ok = ended on final content",
		bursts[0].Files, strings.Join(loads, ","), strings.Join(runs, ","))
}

// ms formats milliseconds.
func ms(x float64) string { return fmt.Sprintf("%.1f", x) }

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }
