//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a dev server process that the harness started in its own
// process group.
type Server struct {
	cmd     *exec.Cmd
	port    int
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// procs remembers every server that is running, so that an interrupted run
// still kills them all.
var procs struct {
	sync.Mutex
	running map[*Server]bool
}

// spawnRequests carries commands to the spawner goroutine.
var spawnRequests = make(chan spawnRequest)

// spawnRequest is a command to start and where to send the error of Start.
type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

func init() { go spawner() }

// spawner starts processes from one OS thread that lives as long as the
// harness. Pdeathsig fires when the thread that started a process exits, not
// when the harness exits, so a thread that never exits makes the kernel kill
// the servers exactly when the harness dies, even by SIGKILL.
func spawner() {
	runtime.LockOSThread() // never unlocked: the thread must not be reused or end
	for req := range spawnRequests {
		req.errc <- req.cmd.Start()
	}
}

// startOnSpawnerThread starts cmd from the spawner's thread.
func startOnSpawnerThread(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	spawnRequests <- spawnRequest{cmd: cmd, errc: errc}
	return <-errc
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartServer starts cmd in a new process group, with its output in logPath.
// The caller must Stop it.
func StartServer(cmd *exec.Cmd, port int, logPath string) (*Server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startOnSpawnerThread(cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	s := &Server{cmd: cmd, port: port, logPath: logPath, done: make(chan struct{})}
	procs.Lock()
	if procs.running == nil {
		procs.running = map[*Server]bool{}
	}
	procs.running[s] = true
	procs.Unlock()
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	return s, nil
}

// URL is the address of the server's page.
func (s *Server) URL() string { return fmt.Sprintf("http://127.0.0.1:%d/", s.port) }

// WaitListening waits until the server accepts TCP connections, or exits.
func (s *Server) WaitListening(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited before listening (%v); log:\n%s", s.waitErr, s.LogTail(20))
		case <-ctx.Done():
			return fmt.Errorf("server not listening on %s: %w", addr, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Exited reports whether the server process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stop ends the server's whole process group: SIGTERM, then SIGKILL after a
// grace period. Children left in the group are killed as well.
func (s *Server) Stop() {
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
	}
	// The leader may be gone while children of the group still run.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
	procs.Lock()
	delete(procs.running, s)
	procs.Unlock()
}

// stopAllServers stops every server still running.
func stopAllServers() {
	procs.Lock()
	list := make([]*Server, 0, len(procs.running))
	for s := range procs.running {
		list = append(list, s)
	}
	procs.Unlock()
	for _, s := range list {
		s.Stop()
	}
}

// LogTail returns the last n lines of the server's output.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Memory is the memory of a process tree, summed over its processes.
type Memory struct {
	// Processes is how many processes were counted.
	Processes int `json:"processes"`
	// RSSBytes is the sum of VmRSS; shared pages count once per process.
	RSSBytes int64 `json:"rss_bytes"`
	// PSSBytes is the sum of Pss from smaps_rollup, where shared pages are
	// split between the processes that map them.
	PSSBytes int64 `json:"pss_bytes"`
}

// IdleMemory is a server's memory while it was left alone.
type IdleMemory struct {
	Seconds float64 `json:"seconds"` // how long
	After   Memory  `json:"after"`   // at the end
	// PeakRSSBytes is the highest RSSBytes of the readings meanwhile,
	// one every 100 ms.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// Memory reads the memory of the server and all its descendants from /proc.
func (s *Server) Memory() (Memory, error) {
	pids, err := descendants(s.cmd.Process.Pid)
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	for _, pid := range pids {
		rss, err := procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
		if err != nil {
			continue // the process ended meanwhile
		}
		pss, _ := procField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
		m.Processes++
		m.RSSBytes += rss
		m.PSSBytes += pss
	}
	if m.Processes == 0 {
		return m, errors.New("server process not found in /proc")
	}
	return m, nil
}

// descendants returns root and every process below it, from the parent PIDs
// in /proc/*/stat.
func descendants(root int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentPID(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

// parentPID reads the parent PID from /proc/PID/stat.
func parentPID(pid int) (int, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may hold spaces; the fields
	// after the last ')' are "state ppid ...".
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// procField reads a "Name:   123 kB" line of a /proc file, in bytes.
func procField(path, name string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		fields := strings.Fields(line[len(name):])
		if len(fields) == 0 {
			break
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s in %s: %w", name, path, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("%s: no %s line", path, name)
}
