package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/devserve/devserve/hmr"
)

// printer writes devserve's terminal output: the URL, one line per build,
// errors with their code line. Color only on a terminal, never with
// NO_COLOR.
//
// Every line is one of three kinds, so that a reader, or a script, can
// tell them apart:
//
//   - "devserve: ..." is devserve speaking for itself (say, warn): where it
//     serves, a port it could not take, a build written, a warning;
//   - "15:04:05 ..." is what happened while serving (event): a build, a
//     reload, a backend going down or coming back;
//   - "  ..." is a detail of the line above (detail): an entry, an
//     address, an error's code line.
type printer struct {
	mu    sync.Mutex
	out   io.Writer
	quiet bool
	color bool
}

func newPrinter(out io.Writer, quiet bool) *printer {
	return &printer{out: out, quiet: quiet, color: useColor(out)}
}

// useColor reports whether out is a terminal and NO_COLOR is not set
// (https://no-color.org: any non-empty value).
func useColor(out io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const (
	bold   = "\x1b[1m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
)

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + reset
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, args...)
}

// say prints a line of devserve's own, unless quiet.
func (p *printer) say(format string, args ...any) {
	if !p.quiet {
		p.printf("devserve: "+format+"\n", args...)
	}
}

// detail prints a line under the one before, indented, unless quiet.
func (p *printer) detail(format string, args ...any) {
	if !p.quiet {
		p.printf("  "+format+"\n", args...)
	}
}

// event prints what happened at t while serving, unless quiet.
func (p *printer) event(t time.Time, format string, args ...any) {
	if !p.quiet {
		p.printf("%s %s\n", p.stamp(t), fmt.Sprintf(format, args...))
	}
}

func (p *printer) stamp(t time.Time) string {
	return p.paint(dim, t.Format("15:04:05"))
}

// warn prints a warning, even when quiet.
func (p *printer) warn(format string, args ...any) {
	p.printf("devserve: %s %s\n", p.paint(yellow+bold, "warning:"), fmt.Sprintf(format, args...))
}

// serving prints where devserve serves dir: url, then for a server on all
// interfaces the URLs other machines reach it at (network, not nil), then
// the entries.
func (p *printer) serving(dir, url string, network []string, st hmr.Status) {
	p.say("serving %s at %s", dir, p.paint(bold, url))
	for _, u := range network {
		p.detail("Network: %s", p.paint(bold, u))
	}
	if network != nil && len(network) == 0 {
		p.detail("Network: no address yet (no interface but loopback is up)")
	}
	if len(st.Entries) > 0 {
		p.detail("%s", p.paint(dim, "entries: "+strings.Join(st.Entries, ", ")))
	}
	if st.Compiling {
		p.detail("%s", p.paint(dim, "first start: pages get the scripts bundled while the modules compile"))
	}
}

// exposed warns that a server listening on host, which is not loopback,
// serves the source to the network: at url, or for a server on all
// interfaces at the network URLs, which serving printed unless quiet.
func (p *printer) exposed(host, url string, network []string) {
	const what = "listening on %s: anyone on your network can read your source code"
	if strings.Contains(host, ":") { // [::], not :::
		host = "[" + host + "]"
	}
	switch {
	case network == nil:
		p.warn(what+" at %s", host, url)
	case len(network) > 0 && p.quiet:
		p.warn(what+" at %s", host, strings.Join(network, ", "))
	default:
		p.warn(what, host)
	}
}

// report prints one build or reload.
func (p *printer) report(r hmr.Report) {
	t := p.stamp(r.Time)
	changed := ""
	if len(r.Changed) > 0 {
		changed = " " + summarize(r.Changed)
	}
	told := fmt.Sprintf(" → %d %s", r.Clients, plural(r.Clients, "browser"))
	switch r.Event {
	case hmr.EventErrors:
		// Errors of a good build, or of no build, are the project's own
		// (a clash of public/): the build's outputs are served.
		head := "build failed"
		if !r.Failed {
			head = "error"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s%s%s\n", t, p.paint(red+bold, head), changed, told)
		for _, m := range r.Errors {
			b.WriteString(p.message(m))
		}
		p.printf("%s", b.String())
	case hmr.EventBuilt:
		if p.quiet {
			return
		}
		if r.NoBuild { // the project's errors went away
			what := ""
			if r.Reload {
				what = " (reload)"
			}
			p.printf("%s %s%s%s%s\n", t, p.paint(green, "fixed"), changed, what, told)
			return
		}
		what := "reload"
		if !r.Reload {
			what = fmt.Sprintf("%d %s", len(r.Updates), plural(len(r.Updates), "update"))
		}
		p.printf("%s %s in %s%s (%s)%s\n", t, p.paint(green, "built"), r.Duration.Round(100_000), changed, what, told)
		for _, m := range r.Warnings {
			p.printf("%s", p.message(m))
		}
	case hmr.ReportBackendDown:
		if !p.quiet {
			p.event(r.Time, "%s", p.paint(yellow, r.Reason))
		}
	case hmr.ReportKeep:
		// Nothing to say: the bundle for the next start is made while
		// the user is away; serve.go gives its garbage back to the OS.
	case hmr.ReportModules:
		if !p.quiet {
			p.printf("%s %s in %s: hot updates from the next JS edit on\n", t, p.paint(green, "modules compiled"), r.Duration.Round(time.Millisecond))
		}
	case hmr.EventReload:
		if len(r.Changed) == 0 && r.Reason != "" {
			// No file changed: the reason says why, as when a proxied
			// backend is back.
			changed = " (" + r.Reason + ")"
		}
		if !p.quiet {
			p.printf("%s %s%s%s\n", t, p.paint(green, "reload"), changed, told)
		}
	}
}

// message formats an esbuild message as an editor would locate it:
// file:line:column with the column counted in characters from 1, then the
// code line with a caret under that column.
func (p *printer) message(m hmr.Message) string {
	var b strings.Builder
	loc := m.File
	if loc != "" && m.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", m.File, m.Line, editorColumn(m.LineText, m.Column))
	}
	if loc != "" {
		loc = p.paint(bold, loc) + ": "
	}
	fmt.Fprintf(&b, "  %s%s\n", loc, m.Text)
	if m.LineText != "" {
		gutter := fmt.Sprintf("%6d | ", m.Line)
		fmt.Fprintf(&b, "%s%s\n", p.paint(dim, gutter), m.LineText)
		pad := strings.Repeat(" ", editorColumn(m.LineText, m.Column)-1)
		fmt.Fprintf(&b, "%s%s%s\n", p.paint(dim, "       | "), pad, p.paint(red, "^"))
	}
	if m.Suggestion != "" {
		fmt.Fprintf(&b, "  %s %s\n", p.paint(dim, "suggestion:"), m.Suggestion)
	}
	return b.String()
}

// editorColumn converts esbuild's column (a 0-based count of bytes into
// line) into the 1-based character column an editor shows.
func editorColumn(line string, col int) int {
	if col > len(line) {
		col = len(line)
	}
	if col < 0 {
		col = 0
	}
	return utf8.RuneCountInString(line[:col]) + 1
}

func summarize(paths []string) string {
	if len(paths) <= 3 {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:3], ", "), len(paths)-3)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// logger returns the logger devserve's packages write diagnostics to:
// warnings and errors, as plain lines.
func (p *printer) logger() *slog.Logger {
	return slog.New(&lineHandler{p: p})
}

// lineHandler is a slog.Handler printing "devserve: warning: msg key=value"
// lines through the printer, so that logs and build lines do not
// interleave.
type lineHandler struct {
	p     *printer
	attrs []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true }
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if r.Level >= slog.LevelError {
		h.p.printf("devserve: %s %s\n", h.p.paint(red+bold, "error:"), b.String())
	} else {
		h.p.warn("%s", b.String())
	}
	return nil
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &lineHandler{p: h.p, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
