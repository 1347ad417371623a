//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// session measures one tool on one generated project. It owns at most one
// server and one tab at a time.
type session struct {
	cfg     *Config
	env     *Env
	tool    *Tool
	browser *Browser
	dir     string        // the project's root
	size    int           // modules (tree) or components (react), 0 for the app
	project *Project      // the module tree, or nil in a React case
	react   *ReactProject // the React project, or nil in the tree case
	logDir  string
	run     *Run
	timeout time.Duration // limit for one step: cfg.StepTimeout of size

	srv   *Server
	tab   *Tab
	leaf  string // the value leaf.js exports now
	hot   string // the value hot.js exports now ("" in a React case)
	label string // the text the edited React component renders now
	color string // the color the stylesheet gives out now
	cold  int    // cold starts so far, to name server logs
}

// errNoProbe means the tab showed no page of the project for a while: an
// error page, or a server that answered without the page.
var errNoProbe = errors.New("the page has no probe")

// measureTool runs every measurement of one tool on one project, made
// under workDir: the module tree of n modules (CaseTree), a React project
// of n components (CaseReact) or a copy of the app (CaseApp, n unused).
// Failures are recorded in the returned Run.
func measureTool(ctx context.Context, cfg *Config, env *Env, b *Browser, tool *Tool, c string, n int, workDir string) *Run {
	start := time.Now()
	if c == CaseApp {
		n = 0
	}
	run := &Run{Project: c, Tool: tool.Name, Version: tool.Version(env), Modules: n, LoadAvg: []string{loadAvg()}}
	defer func() {
		run.Duration = time.Since(start).Seconds()
		run.LoadAvg = append(run.LoadAvg, loadAvg())
	}()

	dir := filepath.Join(workDir, fmt.Sprintf("%s-%s-%d", c, tool.Name, n))
	s := &session{cfg: cfg, env: env, tool: tool, browser: b, size: n, logDir: dir, run: run, color: InitialColor,
		timeout: cfg.StepTimeout(n)}
	var err error
	switch c {
	case CaseTree:
		s.project, err = GenerateProject(filepath.Join(dir, "project"), n, tool.Layout)
		if err == nil {
			s.dir, s.leaf, s.hot = s.project.Dir, InitialLeaf, InitialHot
		}
	case CaseReact:
		s.react, err = GenerateReactProject(filepath.Join(dir, "project"), n, env.ReactModules)
	default:
		s.react, err = CopyApp(filepath.Join(env.Root, filepath.FromSlash(App)), filepath.Join(dir, "project"),
			env.ReactModules, tool.PublicAtRoot)
	}
	if err != nil {
		run.Errors = append(run.Errors, err.Error())
		return run
	}
	if s.react != nil {
		s.dir, s.label = s.react.Dir, s.react.InitialLabel
	}
	defer s.stop()
	if err := s.measure(ctx); err != nil {
		run.Errors = append(run.Errors, err.Error())
	}
	return run
}

// measure runs the cold starts, the edits, the bursts (of the module tree)
// and the memory reading in that order. The edits use the server of the
// last cold start. After a step that failed, the rest are skipped but the
// memory is read.
func (s *session) measure(ctx context.Context) error {
	steps := []func(context.Context) error{s.coldStarts, s.edits, s.bursts}
	if s.react != nil {
		steps = []func(context.Context) error{s.coldStarts, s.reactEdits}
	}
	var failed error
	for _, step := range steps {
		if failed = step(ctx); failed != nil {
			break
		}
	}
	// A failed step (bun's bursts can end on stale content) still leaves
	// a server whose memory tells something.
	if s.srv == nil || s.srv.Exited() {
		return failed
	}
	mem, err := s.srv.Memory()
	if err != nil {
		return errors.Join(failed, fmt.Errorf("server memory: %w", err))
	}
	s.run.Memory = &mem
	if failed == nil && s.cfg.Idle > 0 {
		idle, err := s.idleMemory(ctx, mem)
		if err != nil {
			return fmt.Errorf("server memory while idle: %w", err)
		}
		s.run.Idle = idle
	}
	return failed
}

// idleMemory leaves the server alone for cfg.Idle, reading its memory
// every 100 ms from first, the reading at the start.
func (s *session) idleMemory(ctx context.Context, first Memory) (*IdleMemory, error) {
	idle := &IdleMemory{After: first, PeakRSSBytes: first.RSSBytes}
	start := time.Now()
	for time.Since(start) < s.cfg.Idle {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
		m, err := s.srv.Memory()
		if err != nil {
			return nil, err
		}
		idle.After, idle.PeakRSSBytes = m, max(idle.PeakRSSBytes, m.RSSBytes)
	}
	idle.Seconds = time.Since(start).Seconds()
	return idle, nil
}

// coldStarts runs cfg.Cold cold starts (the tool's caches removed first),
// then cfg.Restarts restarts (the server started again on the same files,
// its caches as the run before left them), then, on a tree project,
// cfg.EditedRestarts restarts each after a JS edit made while the server
// was down, and leaves the last server running. It gives up after two
// failures.
func (s *session) coldStarts(ctx context.Context) error {
	failures := 0
	edited := 0
	if s.project != nil && !s.tool.Static {
		edited = s.cfg.EditedRestarts
	}
	for i := range s.cfg.Cold + s.cfg.Restarts + edited {
		restart := i >= s.cfg.Cold
		kind, samples := "cold start", &s.run.Cold
		if i >= s.cfg.Cold+s.cfg.Restarts {
			kind, samples = "edited restart", &s.run.EditedRestart
			s.stop()
			value := fmt.Sprintf("down-%d", len(*samples))
			if err := s.project.WriteLeaf(value); err != nil {
				return fmt.Errorf("edit while down: %w", err)
			}
			s.leaf = value
		} else if restart {
			kind, samples = "restart", &s.run.Restart
		}
		sample := s.coldStart(ctx, len(*samples), restart)
		*samples = append(*samples, sample)
		progress("%s %s %d %s %d: %s", s.tool.Name, s.run.Project, s.size, kind, len(*samples)-1, sampleText(sample))
		if sample.Error != "" {
			if failures++; failures >= 2 || ctx.Err() != nil {
				return fmt.Errorf("%s keeps failing: %s", kind, sample.Error)
			}
		}
	}
	last := s.run.Cold[len(s.run.Cold)-1]
	if len(s.run.EditedRestart) > 0 {
		last = s.run.EditedRestart[len(s.run.EditedRestart)-1]
	} else if len(s.run.Restart) > 0 {
		last = s.run.Restart[len(s.run.Restart)-1]
	}
	if last.Error != "" || s.srv == nil || s.srv.Exited() {
		return errors.New("no server with a loaded page after the cold starts: the last one failed")
	}
	return nil
}

// edits runs cfg.Edits JS edits and as many CSS and hot edits, in turn.
// After a failed edit it reloads the page to the current content, or gives
// up.
func (s *session) edits(ctx context.Context) error {
	kinds := []string{"js", "css", "hot"}
	if s.tool.Static {
		kinds = kinds[:1] // a reload: nothing watches CSS or hot.js
	}
	for i := range s.cfg.Edits {
		for _, kind := range kinds {
			sample := s.edit(ctx, kind, i)
			switch kind {
			case "js":
				s.run.JS = append(s.run.JS, sample)
			case "css":
				s.run.CSS = append(s.run.CSS, sample)
			default:
				s.run.Hot = append(s.run.Hot, sample)
			}
			progress("%s %d %s edit %d: %s", s.tool.Name, s.size, kind, i, sampleText(sample))
			if sample.Error != "" {
				if err := s.resync(ctx); err != nil {
					return fmt.Errorf("after a failed %s edit: %w", kind, err)
				}
			}
		}
	}
	return nil
}

// bursts runs cfg.Bursts bursts. After one that did not end on the final
// content it reloads the page to the current content, or gives up.
func (s *session) bursts(ctx context.Context) error {
	if s.tool.Static {
		return nil // nothing watches the files
	}
	for i := range s.cfg.Bursts {
		b := s.burst(ctx, i)
		s.run.Bursts = append(s.run.Bursts, b)
		progress("%s %d burst %d: %.1f ms, %d loads, %d runs, final=%v %s",
			s.tool.Name, s.size, i, b.Ms, b.Loads, b.Runs, b.Final, b.Error)
		if !b.Final {
			if err := s.resync(ctx); err != nil {
				return fmt.Errorf("after a burst: %w", err)
			}
		}
	}
	return nil
}

// coldStart starts a fresh server and a fresh tab and times from just before
// the spawn until the page shows the leaf value and the tree's total. The
// tool's caches (CacheDirs in the project, and the user cache folder,
// XDG_CACHE_HOME, which the harness gives each session) are removed first,
// unless restart.
func (s *session) coldStart(ctx context.Context, i int, restart bool) *Sample {
	sample := &Sample{Index: i, Navigated: true}
	fail := func(err error) *Sample {
		sample.Error = err.Error()
		return sample
	}
	s.stop()
	cacheHome := filepath.Join(s.logDir, "cache-home")
	for _, d := range append(slices.Clone(s.tool.CacheDirs), cacheHome) {
		if restart {
			break
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(s.dir, d)
		}
		if err := os.RemoveAll(d); err != nil {
			return fail(fmt.Errorf("remove cache %s: %w", d, err))
		}
	}
	tab, err := s.browser.NewTab()
	if err != nil {
		return fail(err)
	}
	s.tab = tab
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	s.cold++
	logPath := filepath.Join(s.logDir, fmt.Sprintf("server-%d.log", s.cold))
	cmd := s.tool.Command(s.env, s.dir, port)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome)

	t0 := time.Now()
	srv, err := StartServer(cmd, port, logPath)
	if err != nil {
		return fail(err)
	}
	s.srv = srv
	want := s.want()
	st, attempts, err := s.load(ctx, want, t0.Add(s.timeout))
	sample.Attempts = attempts
	if err != nil {
		return fail(fmt.Errorf("%w; server log:\n%s", err, s.srv.LogTail(10)))
	}
	sample.DetectMs = msSince(t0, time.Now())
	s.finish(ctx, sample, t0, max(st.OutAt, st.TotalAt))
	if s.tool.Settle != nil && sample.Error == "" {
		sctx, cancel := context.WithDeadline(ctx, t0.Add(s.timeout))
		defer cancel()
		if err := s.tool.Settle(sctx, port); err != nil {
			return fail(fmt.Errorf("settle: %w", err))
		}
		// devserve's page, untouched, moves from the bundle to module
		// mode once that serves: edits meet it there, as a user's do.
		moved := func(st *ProbeState) bool { return !st.Bundled && shows(want)(st) }
		if _, _, err := s.waitFor(sctx, want, moved, time.Until(t0.Add(s.timeout)), 2*time.Second); err != nil {
			return fail(fmt.Errorf("settle: the page: %w", err))
		}
		sample.SettledMs = msSince(t0, time.Now())
	}
	return sample
}

// load navigates the tab to the server until the page shows want. A
// navigation that fails, or a page without the probe for two seconds, is
// retried until the deadline. It returns the state and how many navigations
// it took.
func (s *session) load(ctx context.Context, want Want, deadline time.Time) (*ProbeState, int, error) {
	if err := s.srv.WaitListening(ctx, time.Until(deadline)); err != nil {
		return nil, 0, err
	}
	attempts := 0
	for {
		attempts++
		err := s.tab.Navigate(ctx, s.srv.URL(), deadline)
		if err == nil {
			var st *ProbeState
			st, _, err = s.waitFor(ctx, want, shows(want), time.Until(deadline), 2*time.Second)
			if err == nil {
				return st, attempts, nil
			}
		}
		if !errors.Is(err, errNavigation) && !errors.Is(err, errNoProbe) {
			return nil, attempts, err
		}
		if time.Now().After(deadline) {
			return nil, attempts, fmt.Errorf("page never loaded: %w", err)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return nil, attempts, err
		}
	}
}

// edit writes one JS edit (a new leaf value), CSS edit (a new color) or hot
// edit (a new value of hot.js, which accepts its own updates) and times until
// the page has it.
func (s *session) edit(ctx context.Context, kind string, i int) *Sample {
	var want Want
	var write func() error
	var at func(*ProbeState) float64
	switch {
	case kind == "js" && s.tool.Static:
		// Nothing is saved: the page reloads, revalidating everything,
		// and main.js shows the same leaf in the new document.
		want = Want{Out: s.leaf}
		write = func() error { return s.tab.Reload(ctx) }
		at = func(st *ProbeState) float64 { return st.OutAt }
	case kind == "js":
		value := fmt.Sprintf("js-%d", i)
		want = Want{Out: value}
		write = func() error { s.leaf = value; return s.project.WriteLeaf(value) }
		at = func(st *ProbeState) float64 { return st.OutAt }
	case kind == "hot":
		value := fmt.Sprintf("hot-%d", i+1)
		want = Want{Hot: value}
		write = func() error { s.hot = value; return s.project.WriteHot(value) }
		at = func(st *ProbeState) float64 { return st.HotAt }
	default:
		color := EditColor(i)
		want = Want{Color: color}
		write = func() error {
			s.color = color
			if s.react != nil {
				return s.react.WriteColor(color)
			}
			return s.project.WriteStyle(color)
		}
		at = func(st *ProbeState) float64 { return st.ColorAt }
	}
	return s.timeChange(ctx, &Sample{Index: i}, fmt.Sprintf("%s-%d", kind, i), write, want, at)
}

// timeChange waits the configured gap, marks the document, writes, and waits
// until the page shows want. at picks the page's timestamp of the change.
func (s *session) timeChange(ctx context.Context, sample *Sample, marker string, write func() error,
	want Want, at func(*ProbeState) float64) *Sample {
	fail := func(err error) *Sample {
		sample.Error = err.Error()
		return sample
	}
	if err := sleep(ctx, s.cfg.Gap); err != nil {
		return fail(err)
	}
	before, err := s.markPage(ctx, marker)
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	if err := write(); err != nil {
		return fail(err)
	}
	done := shows(want)
	if s.tool.Static {
		// The old document shows want too: wait for the new one.
		done = func(st *ProbeState) bool { return st.Marker != marker && shows(want)(st) }
	}
	st, seen, err := s.waitFor(ctx, want, done, s.timeout, 0)
	if err != nil {
		return fail(err)
	}
	sample.DetectMs = msSince(t0, seen)
	sample.Navigated = st.Marker != marker
	sample.Loads = st.Loads - before.Loads
	return s.finish(ctx, sample, t0, at(st))
}

// finish converts the page's timestamp pageAt to a latency since t0 by Go's
// clock, calibrating on the document that showed the change.
func (s *session) finish(ctx context.Context, sample *Sample, t0 time.Time, pageAt float64) *Sample {
	offset, uncertainty, err := s.tab.ClockOffset(ctx)
	if err != nil {
		sample.Error = err.Error()
		return sample
	}
	sample.ClockErrMs = uncertainty
	sample.Ms = round3(pageAt - offset - epochMs(t0))
	return sample
}

// burst writes cfg.BurstFiles tree modules and the leaf at once, waits until
// the page shows the final leaf value and total, then until no document has
// loaded for cfg.Quiet, and counts the loads and runs of main.js.
func (s *session) burst(ctx context.Context, i int) *Burst {
	b := &Burst{Index: i}
	if err := sleep(ctx, s.cfg.Gap); err != nil {
		b.Error = err.Error()
		return b
	}
	before, err := s.markPage(ctx, fmt.Sprintf("burst-%d", i))
	if err != nil {
		b.Error = err.Error()
		return b
	}
	leaf := fmt.Sprintf("burst-%d", i)
	t0 := time.Now()
	b.Files, err = s.project.Burst(s.cfg.BurstFiles, leaf)
	s.leaf = leaf
	if err != nil {
		b.Error = err.Error()
		return b
	}
	want := s.want()
	st, _, err := s.waitFor(ctx, want, shows(want), s.timeout, 0)
	if err != nil {
		b.Error = err.Error()
	} else if offset, _, err := s.tab.ClockOffset(ctx); err != nil {
		b.Error = err.Error()
	} else {
		b.Ms = round3(max(st.OutAt, st.TotalAt) - offset - epochMs(t0))
	}
	last, err := s.settle(ctx, s.cfg.Quiet, s.timeout)
	if err != nil {
		b.Error = strings.TrimPrefix(b.Error+"; "+err.Error(), "; ")
		return b
	}
	b.Loads = last.Loads - before.Loads
	b.Runs = last.Runs - before.Runs
	b.Final = last.Out == want.Out && last.Total == want.Total
	return b
}

// settle polls until the tab's load count has not changed for quiet (at most
// limit) and returns the last state.
func (s *session) settle(ctx context.Context, quiet, limit time.Duration) (*ProbeState, error) {
	end := time.Now().Add(limit)
	var last *ProbeState
	since := time.Now()
	for {
		st, err := s.tab.Query(ctx, Want{})
		switch {
		case err != nil || st == nil:
			since = time.Now() // between documents: not quiet
		case last == nil || st.Loads != last.Loads:
			last, since = st, time.Now()
		default:
			last = st
		}
		if last != nil && time.Since(since) >= quiet {
			return last, nil
		}
		if time.Now().After(end) {
			return last, fmt.Errorf("page never quiet for %s within %s", quiet, limit)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return last, err
		}
	}
}

// resync reloads the page after a failed measurement and waits until it
// shows the project's current content, so the next measurement starts clean.
func (s *session) resync(ctx context.Context) error {
	if s.srv.Exited() {
		return fmt.Errorf("server exited; log:\n%s", s.srv.LogTail(10))
	}
	want := s.want()
	want.Color = s.color
	want.Hot = s.hot
	_, _, err := s.load(ctx, want, time.Now().Add(s.timeout))
	return err
}

// markPage waits until the current document has finished loading, sets a
// marker in it and returns its state before the change.
func (s *session) markPage(ctx context.Context, marker string) (*ProbeState, error) {
	ready := func(st *ProbeState) bool { return st.Ready }
	st, _, err := s.waitFor(ctx, Want{}, ready, s.timeout, 0)
	if err != nil {
		return nil, fmt.Errorf("page not ready for the next change: %w", err)
	}
	if err := s.tab.SetMarker(ctx, marker); err != nil {
		return nil, err
	}
	return st, nil
}

// waitFor polls the probe every cfg.Poll until done(state) or timeout. With
// noProbe > 0 it gives up with errNoProbe when the tab has shown no probe for
// that long. It returns the state and when the poll saw it.
func (s *session) waitFor(ctx context.Context, want Want, done func(*ProbeState) bool,
	timeout, noProbe time.Duration) (*ProbeState, time.Time, error) {
	deadline := time.Now().Add(timeout)
	var missingSince time.Time
	for {
		st, err := s.tab.Query(ctx, want)
		now := time.Now()
		if err == nil && st != nil && done(st) {
			return st, now, nil
		}
		if ctx.Err() != nil {
			return nil, now, ctx.Err()
		}
		if st == nil {
			if missingSince.IsZero() {
				missingSince = now
			}
			if noProbe > 0 && now.Sub(missingSince) >= noProbe {
				return nil, now, errNoProbe
			}
		} else {
			missingSince = time.Time{}
		}
		if now.After(deadline) {
			return nil, now, fmt.Errorf("timed out after %s waiting for %+v (page: %s)", timeout, want, stateText(st, err))
		}
		if s.srv.Exited() {
			return nil, now, fmt.Errorf("server exited; log:\n%s", s.srv.LogTail(10))
		}
		if err := sleep(ctx, s.cfg.Poll); err != nil {
			return nil, now, err
		}
	}
}

// want is the content the page must show for the project as it is now.
func (s *session) want() Want {
	if s.react != nil {
		return Want{Out: s.label, Total: s.react.Total}
	}
	return Want{Out: s.leaf, Total: strconv.Itoa(s.project.Total())}
}

// reactEdits runs cfg.Edits component edits and as many CSS edits, in
// turn. After a failed edit it reloads the page to the current content, or
// gives up.
func (s *session) reactEdits(ctx context.Context) error {
	for i := range s.cfg.Edits {
		for _, kind := range []string{"component", "css"} {
			var sample *Sample
			if kind == "component" {
				sample = s.componentEdit(ctx, i)
				s.run.Component = append(s.run.Component, sample)
			} else {
				sample = s.edit(ctx, kind, i)
				s.run.CSS = append(s.run.CSS, sample)
			}
			progress("%s %s %d %s edit %d: %s", s.tool.Name, s.run.Project, s.size, kind, i, sampleText(sample))
			if sample.Error != "" {
				if err := s.resync(ctx); err != nil {
					return fmt.Errorf("after a failed %s edit: %w", kind, err)
				}
			}
		}
	}
	return nil
}

// componentEdit clicks the edited component's counter once and waits until
// it shows the new count, then rewrites the component with a new label and
// times until the page shows it. The sample records whether the counter
// still showed its count then: a Fast Refresh update keeps it, a reload or
// a re-mount loses it.
func (s *session) componentEdit(ctx context.Context, i int) *Sample {
	sample := &Sample{Index: i}
	st, err := s.tab.Query(ctx, Want{})
	if err == nil && st == nil {
		err = errNoProbe
	}
	if err == nil {
		err = s.tab.Click(ctx)
	}
	count := ""
	if err == nil {
		count = bumpCount(st.Count)
		counted := func(st *ProbeState) bool { return st.Count == count }
		_, _, err = s.waitFor(ctx, Want{}, counted, s.timeout, 0)
	}
	if err == nil {
		err = s.tab.ClearFetches(ctx)
	}
	if err != nil {
		sample.Error = fmt.Sprintf("increment the counter before the edit: %v", err)
		return sample
	}
	label := fmt.Sprintf("edit-%d", i)
	write := func() error { s.label = label; return s.react.WriteLabel(label) }
	at := func(st *ProbeState) float64 { return st.OutAt }
	sample = s.timeChange(ctx, sample, fmt.Sprintf("component-%d", i), write, Want{Out: label}, at)
	if sample.Error != "" {
		return sample
	}
	after, err := s.tab.Query(ctx, Want{Out: label})
	if err != nil || after == nil {
		sample.Error = fmt.Sprintf("read the counter after the edit: %v", err)
		return sample
	}
	kept := after.Count == count
	sample.StateKept = &kept
	// The save in the page's clock is when the text showed minus the
	// latency; the fetches since then say when the update reached the
	// page (the first request) and how long loading it took.
	if !sample.Navigated {
		sample.Fetches, err = s.tab.Fetches(ctx, after.OutAt-sample.Ms)
		if err != nil {
			sample.Error = err.Error()
		}
	}
	return sample
}

// stop ends the current server and closes the current tab, if any.
func (s *session) stop() {
	if s.srv != nil {
		s.srv.Stop()
		s.srv = nil
	}
	if s.tab != nil {
		s.tab.Close()
		s.tab = nil
	}
}

// shows returns the condition "the current document has shown every
// non-empty part of w".
func shows(w Want) func(*ProbeState) bool {
	return func(st *ProbeState) bool {
		return (w.Out == "" || st.OutAt > 0) &&
			(w.Total == "" || st.TotalAt > 0) &&
			(w.Color == "" || st.ColorAt > 0) &&
			(w.Hot == "" || st.HotAt > 0)
	}
}

// stateText describes the last poll result for an error message.
func stateText(st *ProbeState, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case st == nil:
		return "no probe"
	default:
		return fmt.Sprintf("out=%q total=%q hot=%q loads=%d", st.Out, st.Total, st.Hot, st.Loads)
	}
}

// sampleText is a one-line description of a sample for progress output.
func sampleText(s *Sample) string {
	if s.Error != "" {
		return "FAILED: " + s.Error
	}
	return fmt.Sprintf("%.1f ms (poll saw it at %.1f ms, ±%.2f ms, navigated=%v)", s.Ms, s.DetectMs, s.ClockErrMs, s.Navigated)
}

// loadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
