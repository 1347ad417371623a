//go:build unix

package sse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFanout measures, with that many real event stream clients
// connected over loopback HTTP/1.1, for each event published:
//
//   - last-p50-ms and last-p99-ms: the median and the 99th percentile,
//     over the events, of the time from the call of Publish to the last
//     client having read the event in full (with few events the p99 is
//     the worst); ms/op is its mean;
//   - client-p99-ms: the 99th percentile of the time each client took;
//   - cpu-us/client: the CPU time the server process spent per event and
//     client, which unlike the latencies does not depend much on what else
//     the machine runs (cpu-ms/op is that per event), and
//     reader-cpu-us/client the same for the clients' process;
//   - KiB/client: the Go memory (HeapInuse+StackInuse) an idle client costs
//     the server, net/http's connection included.
//
// The clients run in a child process (this test binary, running
// TestFanoutClients), which keeps their memory and CPU time out of the
// figures and their file descriptors out of this process's limit. It
// shares the machine's cores with the server, as browsers would: its
// reads are part of the latencies.
//
// Each process needs about as many open files as there are clients; the
// benchmark raises the soft limit (RLIMIT_NOFILE) up to the hard one, and
// skips, saying so, when the hard limit is too low.
//
// Run it with: go test -run x -bench Fanout -benchtime 20x ./internal/sse
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchmarkFanout(b, n, false) })
	}
}

// BenchmarkFanoutResponseWriter is BenchmarkFanout with every stream
// served through its ResponseWriter, as when hijacking is not possible.
func BenchmarkFanoutResponseWriter(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchmarkFanout(b, n, true) })
	}
}

func benchmarkFanout(b *testing.B, n int, noHijack bool) {
	// This process and the clients' each hold a connection per client.
	if err := raiseFileLimit(uint64(n + 512)); err != nil {
		b.Skipf("%v: raise the hard limit (ulimit -Hn, as root) or run fewer clients", err)
	}
	broker := New(Options{Heartbeat: time.Hour, NoHijack: noHijack})
	srv := httptest.NewServer(broker)
	defer srv.Close()
	defer broker.Close()

	before := inUse()
	child := startFanoutClients(b, srv.Listener.Addr().String(), n)
	defer child.stop()
	cost := float64(inUse()-before) / float64(n)
	if got := broker.Clients(); got != n {
		b.Fatalf("%d clients connected, want %d", got, n)
	}

	var last, all []float64           // ms
	arrivals := make([]byte, 8*(n+1)) // and the clients' CPU time
	var readerCPU int64
	cpu0 := cpuTime()
	for b.Loop() {
		// The clients read with no deadline: a lost event would hang the
		// benchmark, so the report has one.
		child.deadline(time.Minute)
		t0 := time.Now().UnixNano()
		if _, got, err := broker.Publish("bench", reload{Reason: "fan-out"}); err != nil || got != n {
			b.Fatalf("Publish: %d clients, %v", got, err)
		}
		if _, err := io.ReadFull(child.out, arrivals); err != nil {
			b.Fatalf("reading the clients' report: %v\n%s", err, child.stderr.String())
		}
		readerCPU += int64(binary.LittleEndian.Uint64(arrivals[8*n:]))
		var worst int64
		for i := range n {
			d := int64(binary.LittleEndian.Uint64(arrivals[8*i:])) - t0
			worst = max(worst, d)
			all = append(all, float64(d)/1e6)
		}
		last = append(last, float64(worst)/1e6)
	}
	cpu := cpuTime() - cpu0
	events := float64(len(last))
	var sum float64
	for _, v := range last {
		sum += v
	}
	b.ReportMetric(sum/events, "ms/op")
	b.ReportMetric(percentile(last, 50), "last-p50-ms")
	b.ReportMetric(percentile(last, 99), "last-p99-ms")
	b.ReportMetric(percentile(all, 99), "client-p99-ms")
	b.ReportMetric(float64(cpu)/1e6/events, "cpu-ms/op")
	b.ReportMetric(float64(cpu)/1e3/events/float64(n), "cpu-us/client")
	b.ReportMetric(float64(readerCPU)/1e3/events/float64(n), "reader-cpu-us/client")
	b.ReportMetric(cost/1024, "KiB/client")
}

// percentile returns the p-th percentile of vs (nearest rank), sorting vs.
func percentile(vs []float64, p int) float64 {
	slices.Sort(vs)
	i := (len(vs)*p + 99) / 100 // the rank, from 1
	return vs[max(i, 1)-1]
}

// fanoutChild is the process that runs the clients.
type fanoutChild struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	pipe   *os.File      // the read end of the report
	out    *bufio.Reader // the report: "ready\n", then per event n arrival times and the CPU time it took
	stderr *bytes.Buffer
}

// deadline bounds the wait for the next part of the report.
func (c *fanoutChild) deadline(d time.Duration) { c.pipe.SetReadDeadline(time.Now().Add(d)) }

const fanoutEnv = "HMR_FANOUT_CLIENTS" // addr,n

// startFanoutClients starts n clients of the event stream at addr in a
// child process, and returns once each has its sync.
func startFanoutClients(b *testing.B, addr string, n int) *fanoutChild {
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer pw.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFanoutClients$", "-test.count=1")
	cmd.Env = append(os.Environ(), fanoutEnv+"="+addr+","+strconv.Itoa(n))
	cmd.ExtraFiles = []*os.File{pw} // fd 3 in the child
	c := &fanoutChild{cmd: cmd, pipe: pr, out: bufio.NewReader(pr), stderr: new(bytes.Buffer)}
	cmd.Stdout = c.stderr
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	c.stdin = stdin
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c.deadline(2 * time.Minute)
	if line, err := c.out.ReadString('\n'); line != "ready\n" {
		c.stop()
		b.Fatalf("clients: %q, %v\n%s", line, err, c.stderr.String())
	}
	return c
}

// stop ends the child and waits for it.
func (c *fanoutChild) stop() {
	c.stdin.Close() // the child exits at the end of its stdin
	c.cmd.Wait()
	c.pipe.Close()
}

// TestFanoutClients is the child process of BenchmarkFanout; it does
// nothing in a normal test run.
func TestFanoutClients(t *testing.T) {
	env := os.Getenv(fanoutEnv)
	if env == "" {
		t.Skip("the client process of BenchmarkFanout")
	}
	addr, ns, _ := strings.Cut(env, ",")
	n, err := strconv.Atoi(ns)
	if err != nil {
		t.Fatal(err)
	}
	report := os.NewFile(3, "report")
	if err := raiseFileLimit(uint64(n + 64)); err != nil {
		t.Fatalf("the client process: %v", err)
	}
	fc, err := connectFanClients(addr, n)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.close()
	if _, err := io.WriteString(report, "ready\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		fc.close() // ends the loop below
	}()
	buf := make([]byte, 8*(n+1))
	cpu0 := cpuTime()
	for {
		select {
		case <-fc.done:
		case err := <-fc.errs:
			if !fc.closed.Load() {
				t.Fatal(err)
			}
			return
		}
		for i := range fc.clients {
			binary.LittleEndian.PutUint64(buf[8*i:], uint64(fc.clients[i].arrived.Load()))
		}
		cpu := cpuTime()
		binary.LittleEndian.PutUint64(buf[8*n:], uint64(cpu-cpu0))
		fc.remaining.Store(int64(n))
		if _, err := report.Write(buf); err != nil {
			return
		}
		cpu0 = cpuTime() // the report's write is not the clients' work
	}
}

// raiseFileLimit makes room for need open files in this process, raising
// the soft limit, and the hard one if it must and may (as root). A child
// process started later inherits the limits.
func raiseFileLimit(need uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur >= need {
		return nil
	}
	want := rl
	want.Cur = need
	want.Max = max(rl.Max, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("needs %d open files; the limit is %d (hard %d) and raising it failed: %w", need, rl.Cur, rl.Max, err)
	}
	return nil
}

// inUse returns the memory in use after garbage collection. Two cycles
// let idle goroutines' stacks shrink.
func inUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// cpuTime returns the CPU time (user and system) this process used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanClients are minimal event stream clients: a connection and a
// goroutine reading it with a small buffer, noting when a "bench" event
// has been read in full.
type fanClients struct {
	clients   []fanClient
	remaining atomic.Int64 // clients yet to read the current event
	done      chan struct{}
	errs      chan error
	closed    atomic.Bool
	wg        sync.WaitGroup
}

type fanClient struct {
	conn    net.Conn
	arrived atomic.Int64 // Unix ns when it read the last event
}

// connectFanClients connects n clients to the event stream at addr, and
// returns once every one has its sync.
func connectFanClients(addr string, n int) (*fanClients, error) {
	fc := &fanClients{
		clients: make([]fanClient, n),
		done:    make(chan struct{}, 1),
		errs:    make(chan error, 1),
	}
	fc.remaining.Store(int64(n))
	ready := make(chan struct{}, n)
	req := []byte("GET /__devserve/events HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	var dialers sync.WaitGroup
	var next atomic.Int64
	var dialErr atomic.Pointer[error]
	for range 32 {
		dialers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := net.Dial("tcp", addr)
				if err == nil {
					_, err = c.Write(req)
				}
				if err != nil {
					dialErr.Store(&err)
					return
				}
				fc.clients[i].conn = c
				fc.wg.Go(func() { fc.read(&fc.clients[i], ready) })
			}
		})
	}
	dialers.Wait()
	if err := dialErr.Load(); err != nil {
		fc.close()
		return nil, fmt.Errorf("connecting %d clients: %w", n, *err)
	}
	timeout := time.After(time.Minute)
	for range n {
		select {
		case <-ready:
		case err := <-fc.errs:
			fc.close()
			return nil, err
		case <-timeout:
			fc.close()
			return nil, errors.New("the clients did not get their sync")
		}
	}
	return fc, nil
}

var (
	eventSync  = []byte("event: sync")
	eventBench = []byte("event: bench")
)

// read reads c's connection until it is closed. It reports the sync on
// ready, and the end of each bench event in c.arrived and fc.remaining.
func (fc *fanClients) read(c *fanClient, ready chan<- struct{}) {
	var buf [256]byte
	var line [32]byte // the start of the current line
	ln := 0
	var inSync, inBench bool
	for {
		n, err := c.conn.Read(buf[:])
		for _, ch := range buf[:n] {
			if ch != '\n' {
				if ln < len(line) {
					line[ln] = ch
				}
				ln++
				continue
			}
			l := line[:min(ln, len(line))]
			switch {
			case bytes.Equal(l, eventSync):
				inSync = true
			case bytes.Equal(l, eventBench):
				inBench = true
			case ln == 0 && inSync: // the end of the sync event
				inSync = false
				ready <- struct{}{}
			case ln == 0 && inBench:
				inBench = false
				c.arrived.Store(time.Now().UnixNano())
				if fc.remaining.Add(-1) == 0 {
					fc.done <- struct{}{}
				}
			}
			ln = 0
		}
		if err != nil {
			fc.fail(err)
			return
		}
	}
}

func (fc *fanClients) fail(err error) {
	select {
	case fc.errs <- err:
	default:
	}
}

// close closes every connection and waits for the readers.
func (fc *fanClients) close() {
	if fc.closed.Swap(true) {
		return
	}
	for i := range fc.clients {
		if c := fc.clients[i].conn; c != nil {
			c.Close()
		}
	}
	fc.wg.Wait()
}
