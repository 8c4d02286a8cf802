// rawload: a minimal raw-frame AMQP 0-9-1 load generator, standard library only.
//
// It exists so that a broker, not the client, is what a saturation benchmark measures: publishers
// write pre-encoded basic.publish + header + body frames from one large buffer (one write syscall
// per many messages); consumers parse frames out of a large read buffer, count deliveries and send
// their acks in one write per read. It samples the broker's CPU (utime + stime of the PID given
// with -pid, from /proc) and its own over the measured window and prints one JSON line.
//
// Topology: one queue bound to amq.direct with its own name (what amqpperf does), or with
// -fanout N, N queues bound to amq.fanout; non-durable, auto-delete, and deleted at the end.
// Consumer i consumes from queue i mod N. Every publisher and consumer has its own connection.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const frameEnd = 0xCE

// ---------- encoding ----------

type enc struct{ b []byte }

func (e *enc) u8(v byte)      { e.b = append(e.b, v) }
func (e *enc) u16(v uint16)   { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32)   { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64)   { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *enc) short(s string) { e.u8(byte(len(s))); e.b = append(e.b, s...) }
func (e *enc) long(s string)  { e.u32(uint32(len(s))); e.b = append(e.b, s...) }

// table encodes a field table of string and bool values and nested tables.
func (e *enc) table(t map[string]any) {
	var body enc
	for k, v := range t {
		body.short(k)
		switch x := v.(type) {
		case string:
			body.u8('S')
			body.long(x)
		case bool:
			body.u8('t')
			if x {
				body.u8(1)
			} else {
				body.u8(0)
			}
		case map[string]any:
			body.u8('F')
			body.table(x)
		}
	}
	e.u32(uint32(len(body.b)))
	e.b = append(e.b, body.b...)
}

func appendFrame(dst []byte, typ byte, ch uint16, payload []byte) []byte {
	dst = append(dst, typ)
	dst = binary.BigEndian.AppendUint16(dst, ch)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	dst = append(dst, payload...)
	return append(dst, frameEnd)
}

func methodFrame(ch uint16, class, method uint16, args func(*enc)) []byte {
	e := enc{}
	e.u16(class)
	e.u16(method)
	if args != nil {
		args(&e)
	}
	return appendFrame(nil, 1, ch, e.b)
}

// ---------- frame reading ----------

type frameReader struct {
	c    net.Conn
	buf  []byte
	r, w int
}

// buffered returns the next whole frame already in the buffer, ok=false if there is none.
// The payload aliases the buffer and is valid until the next fill.
func (f *frameReader) buffered() (typ byte, ch uint16, payload []byte, ok bool, err error) {
	n := f.w - f.r
	if n < 7 {
		return 0, 0, nil, false, nil
	}
	h := f.buf[f.r:]
	size := int(binary.BigEndian.Uint32(h[3:7]))
	if n < size+8 {
		if size+8 > len(f.buf) {
			grown := make([]byte, size+8+len(f.buf))
			f.w = copy(grown, f.buf[f.r:f.w])
			f.r = 0
			f.buf = grown
		}
		return 0, 0, nil, false, nil
	}
	if h[7+size] != frameEnd {
		return 0, 0, nil, false, fmt.Errorf("frame end byte 0x%02x, expected 0xCE", h[7+size])
	}
	typ, ch, payload = h[0], binary.BigEndian.Uint16(h[1:3]), h[7:7+size]
	f.r += size + 8
	return typ, ch, payload, true, nil
}

// fill reads once from the connection, after moving what is left of the buffer to its start.
func (f *frameReader) fill() error {
	if f.r > 0 {
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	n, err := f.c.Read(f.buf[f.w:])
	f.w += n
	if n > 0 {
		return nil
	}
	return err
}

func (f *frameReader) next() (byte, uint16, []byte, error) {
	for {
		typ, ch, p, ok, err := f.buffered()
		if err != nil || ok {
			return typ, ch, p, err
		}
		if err := f.fill(); err != nil {
			return 0, 0, nil, err
		}
	}
}

func classMethod(p []byte) (uint16, uint16) {
	if len(p) < 4 {
		return 0, 0
	}
	return binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4])
}

// closeReason decodes connection.close / channel.close arguments.
func closeReason(p []byte) string {
	if len(p) < 7 {
		return "(short close frame)"
	}
	code := binary.BigEndian.Uint16(p[4:6])
	n := int(p[6])
	text := ""
	if 7+n <= len(p) {
		text = string(p[7 : 7+n])
	}
	return fmt.Sprintf("%d %s", code, text)
}

// ---------- connections ----------

type amqpConn struct {
	c        net.Conn
	rd       *frameReader
	frameMax int
	wmu      sync.Mutex
}

func (a *amqpConn) write(b []byte) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	_, err := a.c.Write(b)
	return err
}

var errServerClose = errors.New("server closed")

// expect reads frames until a method frame and returns its payload if it is class.method;
// connection.close and channel.close from the server are errors carrying the server's reason.
func (a *amqpConn) expect(class, method uint16) ([]byte, error) {
	for {
		typ, _, p, err := a.rd.next()
		if err != nil {
			return nil, err
		}
		if typ == 8 {
			continue // heartbeat (we asked for none, but a server may send one)
		}
		if typ != 1 {
			return nil, fmt.Errorf("frame type %d while waiting for method %d.%d", typ, class, method)
		}
		c, m := classMethod(p)
		switch {
		case c == class && m == method:
			return p, nil
		case c == 10 && m == 50:
			_ = a.write(methodFrame(0, 10, 51, nil))
			return nil, fmt.Errorf("%w connection: %s", errServerClose, closeReason(p))
		case c == 20 && m == 40:
			return nil, fmt.Errorf("%w channel: %s", errServerClose, closeReason(p))
		case c == 10 && (m == 60 || m == 61):
			continue // connection.blocked / unblocked during setup
		default:
			return nil, fmt.Errorf("method %d.%d while waiting for %d.%d", c, m, class, method)
		}
	}
}

func (a *amqpConn) rpc(frame []byte, class, method uint16) ([]byte, error) {
	if err := a.write(frame); err != nil {
		return nil, err
	}
	return a.expect(class, method)
}

func dial(u *url.URL) (*amqpConn, error) {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5672")
	}
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	a := &amqpConn{c: c, rd: &frameReader{c: c, buf: make([]byte, 1<<20)}}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := a.handshake(u); err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake with %s: %w", host, err)
	}
	_ = c.SetDeadline(time.Time{})
	return a, nil
}

func (a *amqpConn) handshake(u *url.URL) error {
	if _, err := a.c.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
		return err
	}
	if _, err := a.expect(10, 10); err != nil {
		return err
	}
	user, pass := "guest", "guest"
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pass = p
		}
	}
	startOk := methodFrame(0, 10, 11, func(e *enc) {
		e.table(map[string]any{
			"product": "rawload",
			"capabilities": map[string]any{
				"connection.blocked":           true,
				"authentication_failure_close": true,
				"publisher_confirms":           true,
			},
		})
		e.short("PLAIN")
		e.long("\x00" + user + "\x00" + pass)
		e.short("en_US")
	})
	tune, err := a.rpc(startOk, 10, 30)
	if err != nil {
		return err
	}
	if len(tune) < 12 {
		return errors.New("short connection.tune")
	}
	channelMax := binary.BigEndian.Uint16(tune[4:6])
	frameMax := binary.BigEndian.Uint32(tune[6:10])
	if frameMax == 0 {
		frameMax = 131072 // no limit from the server: use RabbitMQ's default
	}
	a.frameMax = int(frameMax)
	if err := a.write(methodFrame(0, 10, 31, func(e *enc) { e.u16(channelMax); e.u32(frameMax); e.u16(0) })); err != nil {
		return err
	}
	vhost := "/"
	if p := strings.TrimPrefix(u.EscapedPath(), "/"); p != "" {
		if vhost, err = url.PathUnescape(p); err != nil {
			return err
		}
	}
	if _, err := a.rpc(methodFrame(0, 10, 40, func(e *enc) { e.short(vhost); e.short(""); e.u8(0) }), 10, 41); err != nil {
		return err
	}
	_, err = a.rpc(methodFrame(1, 20, 10, func(e *enc) { e.short("") }), 20, 11)
	return err
}

// close sends connection.close and waits up to 2 s for close-ok (read by whoever owns the reader
// when done is non-nil; otherwise here), then closes the socket.
func (a *amqpConn) closeWith(done <-chan struct{}) {
	_ = a.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err := a.write(methodFrame(0, 10, 50, func(e *enc) { e.u16(200); e.short("bye"); e.u16(0); e.u16(0) })); err == nil {
		if done != nil {
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
		} else {
			_ = a.c.SetReadDeadline(time.Now().Add(2 * time.Second))
			for {
				typ, _, p, err := a.rd.next()
				if err != nil {
					break
				}
				if c, m := classMethod(p); typ == 1 && c == 10 && m == 51 {
					break
				}
			}
		}
	}
	a.c.Close()
}

// ---------- run state ----------

type run struct {
	sent, recv  atomic.Int64
	blockedSeen atomic.Int64
	nacks       atomic.Int64
	stopping    atomic.Bool
	abort       chan struct{}
	abortOnce   sync.Once
	errMu       sync.Mutex
	errs        []string
}

func (r *run) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(os.Stderr, "rawload:", msg)
	r.errMu.Lock()
	r.errs = append(r.errs, msg)
	r.errMu.Unlock()
	r.abortOnce.Do(func() { close(r.abort) })
}

// ---------- publisher ----------

type publisher struct {
	a         *amqpConn
	mu        sync.Mutex
	cond      *sync.Cond
	blocked   bool
	confirmed int64 // highest delivery tag confirmed (confirm mode)
	closed    chan struct{}
	wrote     chan struct{}
}

// encodeBatch returns n messages' frames back to back and the size of one message.
func encodeBatch(exchange, key string, size, frameMax, n int) ([]byte, int) {
	one := methodFrame(1, 60, 40, func(e *enc) { e.u16(0); e.short(exchange); e.short(key); e.u8(0) })
	h := enc{}
	h.u16(60)
	h.u16(0)
	h.u64(uint64(size))
	h.u16(0) // no properties
	one = appendFrame(one, 2, 1, h.b)
	body := make([]byte, size)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	maxBody := frameMax - 8
	for off := 0; off < size; off += maxBody {
		end := off + maxBody
		if end > size {
			end = size
		}
		one = appendFrame(one, 3, 1, body[off:end])
	}
	out := make([]byte, 0, len(one)*n)
	for i := 0; i < n; i++ {
		out = append(out, one...)
	}
	return out, len(one)
}

// readLoop handles what the server sends a publisher: confirms, connection.blocked/unblocked,
// and close.
func (p *publisher) readLoop(r *run) {
	defer close(p.closed)
	for {
		typ, _, pl, err := p.a.rd.next()
		if err != nil {
			if !r.stopping.Load() {
				r.fail("publisher connection: %v", err)
			}
			p.wake()
			return
		}
		if typ != 1 {
			continue
		}
		c, m := classMethod(pl)
		switch {
		case c == 60 && (m == 80 || m == 120) && len(pl) >= 13: // basic.ack / basic.nack (confirms)
			tag := int64(binary.BigEndian.Uint64(pl[4:12]))
			multiple := pl[12]&1 != 0
			if m == 120 {
				r.nacks.Add(1)
			}
			p.mu.Lock()
			if multiple || tag == p.confirmed+1 {
				if tag > p.confirmed {
					p.confirmed = tag
				}
			} else if tag > p.confirmed {
				// A single confirm out of order: RabbitMQ confirms in order on one queue, so treat it as all up to tag.
				p.confirmed = tag
			}
			p.mu.Unlock()
			p.cond.Broadcast()
		case c == 10 && m == 60:
			r.blockedSeen.Add(1)
			fmt.Fprintln(os.Stderr, "rawload: connection.blocked")
			p.mu.Lock()
			p.blocked = true
			p.mu.Unlock()
		case c == 10 && m == 61:
			fmt.Fprintln(os.Stderr, "rawload: connection.unblocked")
			p.mu.Lock()
			p.blocked = false
			p.mu.Unlock()
			p.cond.Broadcast()
		case c == 10 && m == 50:
			_ = p.a.write(methodFrame(0, 10, 51, nil))
			r.fail("server closed the publisher connection: %s", closeReason(pl))
			p.wake()
			return
		case c == 10 && m == 51:
			return // close-ok for our close
		case c == 20 && m == 40:
			r.fail("server closed the publisher channel: %s", closeReason(pl))
			p.wake()
			return
		}
	}
}

func (p *publisher) wake() {
	p.mu.Lock()
	p.mu.Unlock()
	p.cond.Broadcast()
}

// writeLoop writes batches of pre-encoded messages until stopped or count messages are sent.
// With confirm > 0 at most confirm messages are unconfirmed; with backlog > 0 it waits while
// more than backlog messages per queue are sent but not yet received (all publishers together).
func (p *publisher) writeLoop(r *run, batch []byte, msgLen int, count, confirm, backlog int64, fanout int64) {
	defer close(p.wrote)
	perBatch := int64(len(batch) / msgLen)
	var published int64
	for !r.stopping.Load() {
		n := perBatch
		if count > 0 && count-published < n {
			n = count - published
		}
		if n <= 0 {
			return
		}
		p.mu.Lock()
		for !r.stopping.Load() && (p.blocked || (confirm > 0 && published-p.confirmed >= confirm)) {
			select {
			case <-p.closed:
				p.mu.Unlock()
				return
			default:
			}
			p.cond.Wait()
		}
		if confirm > 0 && confirm-(published-p.confirmed) < n {
			n = confirm - (published - p.confirmed)
		}
		p.mu.Unlock()
		for backlog > 0 && fanout > 0 && !r.stopping.Load() && r.sent.Load()*fanout-r.recv.Load() > backlog*fanout {
			time.Sleep(100 * time.Microsecond)
		}
		if r.stopping.Load() || n <= 0 {
			return
		}
		if err := p.a.write(batch[:n*int64(msgLen)]); err != nil {
			if !r.stopping.Load() {
				r.fail("publish write: %v", err)
			}
			return
		}
		published += n
		r.sent.Add(n)
	}
}

// ---------- consumer ----------

type consumer struct {
	a      *amqpConn
	closed chan struct{}
}

// loop counts whole messages (deliver + header + all body bytes) and acks them: one basic.ack per
// message, or one with multiple set every ackEvery messages; the acks of one read go out in one write.
func (k *consumer) loop(r *run, autoAck bool, ackEvery int) {
	defer close(k.closed)
	var (
		acks       []byte
		remaining  int64
		lastTag    uint64
		sinceAck   int
		pending    int64
		ackPayload = make([]byte, 13)
	)
	binary.BigEndian.PutUint16(ackPayload[0:2], 60)
	binary.BigEndian.PutUint16(ackPayload[2:4], 80)
	if ackEvery > 1 {
		ackPayload[12] = 1
	}
	complete := func() {
		pending++
		if autoAck {
			return
		}
		sinceAck++
		if sinceAck >= ackEvery {
			binary.BigEndian.PutUint64(ackPayload[4:12], lastTag)
			acks = appendFrame(acks, 1, 1, ackPayload)
			sinceAck = 0
		}
	}
	rd := k.a.rd
	for {
		typ, _, p, ok, err := rd.buffered()
		if err != nil {
			r.fail("consumer: %v", err)
			return
		}
		if !ok {
			if pending > 0 {
				r.recv.Add(pending)
				pending = 0
			}
			if len(acks) > 0 {
				if err := k.a.write(acks); err != nil {
					if !r.stopping.Load() {
						r.fail("ack write: %v", err)
					}
					return
				}
				acks = acks[:0]
			}
			if err := rd.fill(); err != nil {
				if !r.stopping.Load() {
					r.fail("consumer connection: %v", err)
				}
				return
			}
			continue
		}
		switch typ {
		case 1:
			c, m := classMethod(p)
			switch {
			case c == 60 && m == 60: // basic.deliver
				if len(p) < 5 || len(p) < 5+int(p[4])+8 {
					r.fail("short basic.deliver")
					return
				}
				lastTag = binary.BigEndian.Uint64(p[5+int(p[4]):])
			case c == 10 && m == 50:
				_ = k.a.write(methodFrame(0, 10, 51, nil))
				r.fail("server closed a consumer connection: %s", closeReason(p))
				return
			case c == 10 && m == 51:
				r.recv.Add(pending)
				return
			case c == 20 && m == 40:
				if !r.stopping.Load() {
					r.fail("server closed a consumer channel: %s", closeReason(p))
				}
				return
			}
		case 2:
			if len(p) < 12 {
				r.fail("short content header")
				return
			}
			remaining = int64(binary.BigEndian.Uint64(p[4:12]))
			if remaining == 0 {
				complete()
			}
		case 3:
			remaining -= int64(len(p))
			if remaining == 0 {
				complete()
			}
		}
	}
}

// ---------- CPU ----------

// procCPU returns utime + stime in seconds (USER_HZ = 100 on Linux) of a /proc stat file: a process's
// (all its threads) or one thread's; -1 if unreadable.
func procCPU(statFile string) float64 {
	b, err := os.ReadFile(statFile)
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

// machineCPU returns the busy time of all cores together in seconds (/proc/stat: everything but
// idle and iowait), so that what other processes took from the broker and the client shows.
func machineCPU() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return -1
	}
	var busy float64
	for i := 1; i < len(f) && i <= 8; i++ {
		if i == 4 || i == 5 {
			continue // idle, iowait
		}
		v, _ := strconv.ParseFloat(f[i], 64)
		busy += v
	}
	return busy / 100
}

// runQueueWait returns how long a thread has waited for a core while runnable, in seconds (the second
// field of /proc/<pid>/task/<tid>/schedstat, ns); -1 if unreadable.
func runQueueWait(schedstat string) float64 {
	b, err := os.ReadFile(schedstat)
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	v, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return -1
	}
	return v / 1e9
}

func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

type snap struct {
	t          time.Time
	sent, recv int64
	broker     float64
	brokerMain float64 // the broker's main thread (Warren's JavaScript thread)
	brokerWait float64 // its run-queue wait
	self       float64
	machine    float64
}

func take(r *run, pid int) snap {
	s := snap{t: time.Now(), sent: r.sent.Load(), recv: r.recv.Load(), self: selfCPU(), machine: machineCPU(), broker: -1, brokerMain: -1, brokerWait: -1}
	if pid > 0 {
		p := strconv.Itoa(pid)
		s.broker = procCPU("/proc/" + p + "/stat")
		s.brokerMain = procCPU("/proc/" + p + "/task/" + p + "/stat")
		s.brokerWait = runQueueWait("/proc/" + p + "/task/" + p + "/schedstat")
	}
	return s
}

// ---------- main ----------

type result struct {
	Tool              string   `json:"tool"`
	Scenario          string   `json:"scenario"`
	Producers         int      `json:"producers"`
	Consumers         int      `json:"consumers"`
	Queues            int      `json:"queues"`
	Size              int      `json:"size"`
	AutoAck           bool     `json:"autoack"`
	Prefetch          int      `json:"prefetch"`
	AckEvery          int      `json:"ack_every"`
	Confirm           int      `json:"confirm"`
	Backlog           int      `json:"backlog"`
	FrameMax          int      `json:"frame_max"`
	Seconds           float64  `json:"seconds"`
	Sent              int64    `json:"sent"`
	Recv              int64    `json:"recv"`
	SentRate          float64  `json:"sent_rate"`
	RecvRate          float64  `json:"recv_rate"`
	BrokerCPUPct      *float64 `json:"broker_cpu_pct"`
	BrokerMainPct     *float64 `json:"broker_main_thread_cpu_pct"`
	BrokerMainWaitPct *float64 `json:"broker_main_thread_wait_pct"`
	ClientCPUPct      float64  `json:"client_cpu_pct"`
	MachineCPUPct     float64  `json:"machine_cpu_pct"`
	OtherCPUPct       *float64 `json:"other_cpu_pct"`
	BrokerCPUUsPerMsg *float64 `json:"broker_cpu_us_per_msg"`
	Count             int64    `json:"count,omitempty"`
	Expected          int64    `json:"expected,omitempty"`
	Lost              *int64   `json:"lost,omitempty"`
	Blocked           int64    `json:"blocked"`
	Nacks             int64    `json:"nacks"`
	Errors            []string `json:"errors"`
}

func main() {
	uri := flag.String("uri", "amqp://guest:guest@127.0.0.1:5672/%2f", "broker URI (amqp://user:pass@host:port/vhost)")
	id := flag.String("id", "rawload", "scenario name for the JSON line")
	producers := flag.Int("x", 1, "publishers (one connection each)")
	consumers := flag.Int("y", 1, "consumers (one connection each; consumer i reads queue i mod queues)")
	size := flag.Int("s", 12, "body bytes")
	autoAck := flag.Bool("a", false, "autoack (no-ack consume); default is manual ack")
	prefetch := flag.Int("q", 0, "basic.qos prefetch count per consumer (0 = none)")
	ackEvery := flag.Int("ack-every", 1, "manual ack: 1 = ack each message; N > 1 = one basic.ack with multiple set every N messages (N ≤ prefetch)")
	fanout := flag.Int("fanout", 0, "N > 0: N queues bound to amq.fanout (every queue gets every message); 0: one queue bound to amq.direct")
	seconds := flag.Float64("z", 8, "seconds to run (timed mode)")
	warmup := flag.Float64("w", 1, "warm-up seconds excluded from the figures (timed mode)")
	count := flag.Int64("count", 0, "count mode: each publisher sends N messages; the run ends when all are received or none arrive for 2 s; exit 1 on loss")
	confirm := flag.Int("c", 0, "publisher confirms with at most N unconfirmed per publisher (0 = off)")
	backlog := flag.Int("backlog", 0, "publishers wait while more than N messages per queue are sent but not received (0 = no limit)")
	batchBytes := flag.Int("batch-bytes", 128<<10, "bytes of pre-encoded messages per write (at least one message)")
	pid := flag.Int("pid", 0, "broker PID for its CPU from /proc (0 = none)")
	flag.Parse()

	u, err := url.Parse(*uri)
	if err != nil || u.Scheme != "amqp" {
		fmt.Fprintln(os.Stderr, "rawload: -uri must be amqp://…")
		os.Exit(2)
	}
	if *producers < 0 || *consumers < 0 || *size < 0 || *fanout < 0 || (*producers == 0 && *consumers == 0) {
		fmt.Fprintln(os.Stderr, "rawload: bad counts")
		os.Exit(2)
	}
	if !*autoAck && *ackEvery > 1 && (*prefetch == 0 || *ackEvery > *prefetch) {
		fmt.Fprintln(os.Stderr, "rawload: -ack-every N needs -q ≥ N")
		os.Exit(2)
	}
	if *count == 0 && *warmup >= *seconds {
		fmt.Fprintln(os.Stderr, "rawload: -w must be below -z")
		os.Exit(2)
	}
	nQueues := 1
	exchange := "amq.direct"
	if *fanout > 0 {
		nQueues = *fanout
		exchange = "amq.fanout"
	}

	r := &run{abort: make(chan struct{})}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		r.fail("interrupted by %v", s)
	}()
	limit := time.Duration(*seconds+60) * time.Second
	if *count > 0 {
		limit = 10 * time.Minute
	}
	time.AfterFunc(limit, func() {
		fmt.Fprintln(os.Stderr, "rawload: watchdog: run took too long")
		os.Exit(3)
	})

	res := result{Tool: "rawload", Scenario: *id, Producers: *producers, Consumers: *consumers, Queues: nQueues,
		Size: *size, AutoAck: *autoAck, Prefetch: *prefetch, AckEvery: *ackEvery, Confirm: *confirm, Backlog: *backlog, Errors: []string{}}
	exit := func(code int) {
		r.errMu.Lock()
		res.Errors = append(res.Errors, r.errs...)
		r.errMu.Unlock()
		res.Blocked = r.blockedSeen.Load()
		res.Nacks = r.nacks.Load()
		line, _ := json.Marshal(res)
		fmt.Println(string(line))
		if len(res.Errors) > 0 && code == 0 {
			code = 1
		}
		os.Exit(code)
	}

	setup, err := dial(u)
	if err != nil {
		r.fail("%v", err)
		exit(1)
	}
	res.FrameMax = setup.frameMax
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	prefix := fmt.Sprintf("rawload-%d-%06x", os.Getpid(), rng.Intn(1<<24))
	queues := make([]string, nQueues)
	for i := range queues {
		queues[i] = fmt.Sprintf("%s-%d", prefix, i)
		q := queues[i]
		// non-durable, auto-delete (passive 1, durable 2, exclusive 4, auto-delete 8)
		if _, err := setup.rpc(methodFrame(1, 50, 10, func(e *enc) { e.u16(0); e.short(q); e.u8(8); e.u32(0) }), 50, 11); err != nil {
			r.fail("queue.declare: %v", err)
			exit(1)
		}
		key := q
		if *fanout > 0 {
			key = ""
		}
		if _, err := setup.rpc(methodFrame(1, 50, 20, func(e *enc) {
			e.u16(0)
			e.short(q)
			e.short(exchange)
			e.short(key)
			e.u8(0)
			e.u32(0)
		}), 50, 21); err != nil {
			r.fail("queue.bind: %v", err)
			exit(1)
		}
	}
	deleteQueues := func() {
		_ = setup.c.SetDeadline(time.Now().Add(30 * time.Second))
		for _, q := range queues {
			if _, err := setup.rpc(methodFrame(1, 50, 40, func(e *enc) { e.u16(0); e.short(q); e.u8(0) }), 50, 41); err != nil {
				r.fail("queue.delete %s: %v", q, err)
				return
			}
		}
	}

	cons := make([]*consumer, 0, *consumers)
	pubs := make([]*publisher, 0, *producers)
	closeAll := func() {
		r.stopping.Store(true)
		for _, p := range pubs {
			p.wake()
		}
		for _, p := range pubs {
			select {
			case <-p.wrote:
			case <-time.After(5 * time.Second):
			}
			p.a.closeWith(p.closed)
		}
		deleteQueues()
		for _, k := range cons {
			k.a.closeWith(k.closed)
		}
		setup.closeWith(nil)
	}
	// A set-up step failed: say why, close what is open (its queues deleted), exit 1.
	abort := func(format string, args ...any) {
		r.fail(format, args...)
		closeAll()
		exit(1)
	}

	for i := 0; i < *consumers; i++ {
		a, err := dial(u)
		if err != nil {
			abort("%v", err)
		}
		k := &consumer{a: a, closed: make(chan struct{})}
		cons = append(cons, k)
		if *prefetch > 0 {
			if _, err := a.rpc(methodFrame(1, 60, 10, func(e *enc) { e.u32(0); e.u16(uint16(*prefetch)); e.u8(0) }), 60, 11); err != nil {
				abort("basic.qos: %v", err)
			}
		}
		var bits byte
		if *autoAck {
			bits = 2
		}
		q := queues[i%nQueues]
		if _, err := a.rpc(methodFrame(1, 60, 20, func(e *enc) { e.u16(0); e.short(q); e.short(""); e.u8(bits); e.u32(0) }), 60, 21); err != nil {
			abort("basic.consume: %v", err)
		}
		go k.loop(r, *autoAck, *ackEvery)
	}

	var batch []byte
	var msgLen int
	fan := int64(deliveriesPerPublish(*consumers, nQueues))
	for i := 0; i < *producers; i++ {
		a, err := dial(u)
		if err != nil {
			abort("%v", err)
		}
		if batch == nil {
			_, one := encodeBatch(exchange, routingKey(*fanout, queues[0]), *size, a.frameMax, 1)
			n := *batchBytes / one
			if n < 1 {
				n = 1
			}
			batch, msgLen = encodeBatch(exchange, routingKey(*fanout, queues[0]), *size, a.frameMax, n)
		}
		p := &publisher{a: a, closed: make(chan struct{}), wrote: make(chan struct{})}
		p.cond = sync.NewCond(&p.mu)
		pubs = append(pubs, p)
		if *confirm > 0 {
			if _, err := a.rpc(methodFrame(1, 85, 10, func(e *enc) { e.u8(0) }), 85, 11); err != nil {
				abort("confirm.select: %v", err)
			}
		}
	}
	for _, p := range pubs {
		go p.readLoop(r)
		go p.writeLoop(r, batch, msgLen, *count, int64(*confirm), int64(*backlog), fan)
	}

	if *count > 0 {
		res.Count = *count
		res.Expected = *count * int64(*producers) * fan
		start := take(r, *pid)
		last, lastChange := int64(-1), time.Now()
		pubsDone := false
	wait:
		for {
			select {
			case <-r.abort:
				break wait
			case <-time.After(10 * time.Millisecond):
			}
			if !pubsDone {
				pubsDone = true
				for _, p := range pubs {
					select {
					case <-p.wrote:
					default:
						pubsDone = false
					}
				}
			}
			got := r.recv.Load()
			if got != last {
				last, lastChange = got, time.Now()
			}
			if pubsDone && (got >= res.Expected || time.Since(lastChange) > 2*time.Second) {
				break
			}
		}
		end := take(r, *pid)
		fill(&res, start, end)
		lost := res.Expected - end.recv
		res.Lost = &lost
		closeAll()
		if lost != 0 {
			r.fail("received %d of %d expected messages", end.recv, res.Expected)
		}
		exit(0)
	}

	var start snap
	select {
	case <-r.abort:
	case <-time.After(time.Duration(*warmup * float64(time.Second))):
	}
	start = take(r, *pid)
	select {
	case <-r.abort:
	case <-time.After(time.Duration((*seconds - *warmup) * float64(time.Second))):
	}
	end := take(r, *pid)
	fill(&res, start, end)
	closeAll()
	exit(0)
}

func routingKey(fanout int, queue string) string {
	if fanout > 0 {
		return ""
	}
	return queue
}

// deliveriesPerPublish: how many messages consumers receive per publish. With fanout every queue
// gets a copy; a queue nobody consumes (fewer consumers than queues) is not counted.
func deliveriesPerPublish(consumers, queues int) int {
	if consumers < queues {
		return consumers
	}
	return queues
}

func fill(res *result, a, b snap) {
	secs := b.t.Sub(a.t).Seconds()
	res.Seconds = secs
	res.Sent = b.sent - a.sent
	res.Recv = b.recv - a.recv
	if secs > 0 {
		res.SentRate = float64(res.Sent) / secs
		res.RecvRate = float64(res.Recv) / secs
		res.ClientCPUPct = (b.self - a.self) / secs * 100
		res.MachineCPUPct = (b.machine - a.machine) / secs * 100
		if a.broker >= 0 && b.broker >= 0 {
			pct := (b.broker - a.broker) / secs * 100
			res.BrokerCPUPct = &pct
			other := res.MachineCPUPct - pct - res.ClientCPUPct
			res.OtherCPUPct = &other
			if a.brokerMain >= 0 && b.brokerMain >= 0 {
				main := (b.brokerMain - a.brokerMain) / secs * 100
				res.BrokerMainPct = &main
			}
			if a.brokerWait >= 0 && b.brokerWait >= 0 {
				wait := (b.brokerWait - a.brokerWait) / secs * 100
				res.BrokerMainWaitPct = &wait
			}
			rate := res.RecvRate
			if res.Consumers == 0 {
				rate = res.SentRate
			}
			if rate > 0 {
				us := pct / 100 * 1e6 / rate
				res.BrokerCPUUsPerMsg = &us
			}
		}
	}
}
