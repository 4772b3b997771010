// Driver for the official pure-Go Zerobus SDK (Go module github.com/databricks/zerobus-sdk/purego,
// pinned in go.mod) under the contract of test/sdk/README.md: JSON lines on stdout, diagnostics on
// stderr.
//
// The SDK's default flow, as its README shows it: zerobus.New with the https:// endpoint and
// workspace URL, CreateStream with the service principal's client id and secret (the SDK fetches
// OAuth tokens itself). nobusd's dev CA is trusted the way Go programs trust a CA on Linux:
// SSL_CERT_FILE (crypto/x509's system roots).
package main

//go:generate protoc -I .. --go_out=pb --go_opt=paths=source_relative --go_opt=Mreading.proto=nobus.local/sdkdriver/pb ../reading.proto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/databricks/zerobus-sdk/purego/zerobus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"

	"nobus.local/sdkdriver/pb"
)

const sdkModule = "github.com/databricks/zerobus-sdk/purego"

var (
	prefix  = os.Getenv("NOBUS_TABLE_PREFIX")
	control = os.Getenv("NOBUS_CONTROL")
	out     = json.NewEncoder(os.Stdout)
)

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "sdk-go: "+format+"\n", args...) }

// ---- records --------------------------------------------------------------------------------

func jsonRecord(id int64) []byte {
	return fmt.Appendf(nil, `{"id":%d,"device":"dev-%d","temp":%s,"ok":%t,"ts":%d}`, id, id%10,
		strconv.FormatFloat(float64(id)/4, 'g', -1, 64), id%2 == 0, 1767225600000000+id*1000)
}

func protoRecord(id int64) []byte {
	b, err := proto.Marshal(&pb.Reading{
		Id: proto.Int64(id), Device: proto.String(fmt.Sprintf("dev-%d", id%10)),
		Temp: proto.Float64(float64(id) / 4), Ok: proto.Bool(id%2 == 0),
		Ts: proto.Int64(1767225600000000 + id*1000),
	})
	if err != nil {
		panic(err)
	}
	return b
}

// The serialized DescriptorProto of the generated Reading message, for zerobus.WithProto.
func readingDescriptor() []byte {
	b, err := proto.Marshal(protodesc.ToDescriptorProto((&pb.Reading{}).ProtoReflect().Descriptor()))
	if err != nil {
		panic(err)
	}
	return b
}

func ids(from, n int64) []int64 {
	r := make([]int64, n)
	for i := range r {
		r[i] = from + int64(i)
	}
	return r
}

// ---- SDK plumbing ---------------------------------------------------------------------------

type driver struct {
	sdk      *zerobus.SDK
	shortSDK *zerobus.SDK // the token_refresh case's nobusd, which issues 3-second tokens
	clientID string
	secret   string
}

// Short timeouts so a hang fails well within a minute; recovery stays on (the default).
func streamOptions(json bool) []zerobus.StreamOption {
	opts := []zerobus.StreamOption{
		zerobus.WithRecovery(zerobus.RecoveryEnabled),
		zerobus.WithRecoveryRetries(4),
		zerobus.WithRecoveryBackoff(500 * time.Millisecond),
		zerobus.WithRecoveryTimeout(10 * time.Second),
		zerobus.WithLackOfAckTimeout(15 * time.Second),
		zerobus.WithFlushTimeout(45 * time.Second),
		// nobusd's close_stream_signal announces its drain timeout (30 s); this SDK takes the
		// duration as a delay before it reconnects, even with nothing in flight, so cap it.
		zerobus.WithStreamPausedMaxWait(2 * time.Second),
		zerobus.WithWaitForReady(),
	}
	if json {
		return append(opts, zerobus.WithJSON())
	}
	return append(opts, zerobus.WithProto(readingDescriptor()))
}

func (d *driver) open(ctx context.Context, table string, json bool) (*zerobus.Stream, error) {
	return d.sdk.CreateStream(ctx, table, d.clientID, d.secret, streamOptions(json)...)
}

// tokenRefresh: 300 records over ~8 s on one stream whose tokens last 3 s; nobusd closes the
// stream as each token expires and the SDK must reconnect with a new token and resend.
func tokenRefresh(ctx context.Context, d *driver, table string) ([]int64, error) {
	idList := ids(7000, 300)
	s, err := d.shortSDK.CreateStream(ctx, table, d.clientID, d.secret, streamOptions(true)...)
	if err != nil {
		return nil, err
	}
	for _, id := range idList {
		if _, err = s.IngestRecordOffsetContext(ctx, jsonRecord(id)); err != nil {
			err = fmt.Errorf("ingest %d: %w", id, err)
			break
		}
		time.Sleep(8 * time.Second / time.Duration(len(idList)))
	}
	if err == nil {
		err = s.FlushContext(ctx)
	}
	if err = closeOnError(s, err); err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	return idList, nil
}

// ingestEach queues one record per call and returns the last offset.
func ingestEach(ctx context.Context, s *zerobus.Stream, idList []int64, enc func(int64) []byte) (int64, error) {
	last := int64(-1)
	for _, id := range idList {
		off, err := s.IngestRecordOffsetContext(ctx, enc(id))
		if err != nil {
			return last, fmt.Errorf("ingest id %d: %w", id, err)
		}
		last = off
	}
	return last, nil
}

// ingestBatches queues the ids in batches of `size` (one offset per batch).
func ingestBatches(ctx context.Context, s *zerobus.Stream, idList []int64, enc func(int64) []byte, size int) (int64, error) {
	last := int64(-1)
	for i := 0; i < len(idList); i += size {
		batch := make([][]byte, 0, size)
		for _, id := range idList[i:min(i+size, len(idList))] {
			batch = append(batch, enc(id))
		}
		off, err := s.IngestRecordsOffsetContext(ctx, batch)
		if err != nil {
			return last, fmt.Errorf("ingest batch from id %d: %w", idList[i], err)
		}
		last = off
	}
	return last, nil
}

func postControl(ctx context.Context, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, control+"/"+what, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("control %s: %w", what, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("control %s: %d %s", what, resp.StatusCode, body)
	}
	logf("control %s -> %s", what, strings.TrimSpace(string(body)))
	return nil
}

// closeOnError closes a stream whose case already failed (its error is the one reported).
func closeOnError(s *zerobus.Stream, err error) error {
	if err != nil {
		if cerr := s.Close(); cerr != nil {
			logf("close after failure: %v", cerr)
		}
	}
	return err
}

// ---- cases ----------------------------------------------------------------------------------

type dataCase struct {
	name string
	run  func(ctx context.Context, d *driver, table string) ([]int64, error)
}

// waitCase: open, ingest (single or batched), wait for the last offset, close.
func waitCase(from int64, json bool, batch int) func(context.Context, *driver, string) ([]int64, error) {
	return func(ctx context.Context, d *driver, table string) ([]int64, error) {
		enc := jsonRecord
		if !json {
			enc = protoRecord
		}
		idList := ids(from, 200)
		if batch > 0 {
			idList = ids(from, 500)
		}
		s, err := d.open(ctx, table, json)
		if err != nil {
			return nil, err
		}
		var last int64
		if batch == 0 {
			last, err = ingestEach(ctx, s, idList, enc)
		} else {
			last, err = ingestBatches(ctx, s, idList, enc, batch)
		}
		if err == nil {
			if err = s.WaitForOffsetContext(ctx, last); err != nil {
				err = fmt.Errorf("wait for offset %d: %w", last, err)
			}
		}
		if err = closeOnError(s, err); err != nil {
			return nil, err
		}
		if err := s.Close(); err != nil {
			return nil, fmt.Errorf("close: %w", err)
		}
		return idList, nil
	}
}

// flushClose: 100 records, Flush, 100 more, Close (which flushes).
func flushClose(ctx context.Context, d *driver, table string) ([]int64, error) {
	idList := ids(4000, 200)
	s, err := d.open(ctx, table, true)
	if err != nil {
		return nil, err
	}
	if _, err = ingestEach(ctx, s, idList[:100], jsonRecord); err == nil {
		if err = s.FlushContext(ctx); err != nil {
			err = fmt.Errorf("flush: %w", err)
		}
	}
	if err == nil {
		_, err = ingestEach(ctx, s, idList[100:], jsonRecord)
	}
	if err = closeOnError(s, err); err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	return idList, nil
}

// around: 100 records, flush, the control action, 200 more, flush, close; the SDK recovers.
func around(from int64, action string) func(context.Context, *driver, string) ([]int64, error) {
	return func(ctx context.Context, d *driver, table string) ([]int64, error) {
		idList := ids(from, 300)
		s, err := d.open(ctx, table, true)
		if err != nil {
			return nil, err
		}
		step := func(what string, f func() error) {
			if err == nil {
				t0 := time.Now()
				if err = f(); err != nil {
					err = fmt.Errorf("%s: %w", what, err)
				}
				logf("%s %s: %v (%v)", table, what, time.Since(t0).Round(time.Millisecond), err)
			}
		}
		step("ingest 100", func() error { _, e := ingestEach(ctx, s, idList[:100], jsonRecord); return e })
		step("flush", func() error { return s.FlushContext(ctx) })
		step(action, func() error { return postControl(ctx, action) })
		step("ingest 200", func() error { _, e := ingestEach(ctx, s, idList[100:], jsonRecord); return e })
		step("flush after "+action, func() error { return s.FlushContext(ctx) })
		if err = closeOnError(s, err); err != nil {
			return nil, err
		}
		if err := s.Close(); err != nil {
			return nil, fmt.Errorf("close: %w", err)
		}
		return idList, nil
	}
}

var dataCases = []dataCase{
	{"json_single", waitCase(0, true, 0)},
	{"json_batch", waitCase(1000, true, 100)},
	{"proto_single", waitCase(2000, false, 0)},
	{"proto_batch", waitCase(3000, false, 100)},
	{"flush_close", flushClose},
	{"close_signal", around(5000, "close-all")},
	{"restart", around(6000, "restart")},
	{"token_refresh", tokenRefresh},
}

type caseLine struct {
	Case         string  `json:"case"`
	Table        string  `json:"table,omitempty"`
	AckedIDs     []int64 `json:"acked_ids,omitempty"`
	OK           bool    `json:"ok"`
	ErrorClass   string  `json:"error_class,omitempty"`
	NonRetriable *bool   `json:"non_retriable,omitempty"`
	Message      string  `json:"message,omitempty"`
	Detail       string  `json:"detail,omitempty"`
}

// expectError turns the SDK's error into the contract's error line; non_retriable is the SDK's
// own verdict (zerobus.Retryable, i.e. (*zerobus.Error).Retryable()).
func expectError(name string, err error) caseLine {
	if err == nil {
		return caseLine{Case: name, Detail: "the SDK reported no error"}
	}
	class := fmt.Sprintf("%T", err)
	var zerr *zerobus.Error
	if errors.As(err, &zerr) {
		class = fmt.Sprintf("*zerobus.Error(Op=%s, Retryable()=%t)", zerr.Op, zerr.Retryable())
	}
	nonRetriable := !zerobus.Retryable(err)
	return caseLine{Case: name, OK: true, ErrorClass: class, NonRetriable: &nonRetriable,
		Message: err.Error()}
}

func badRecord(ctx context.Context, d *driver, table string) error {
	s, err := d.open(ctx, table, true)
	if err != nil {
		return err
	}
	if _, err = s.IngestRecordOffsetContext(ctx, []byte(`{"id": "not-a-number"}`)); err == nil {
		err = s.FlushContext(ctx)
	}
	if cerr := s.Close(); cerr != nil {
		logf("bad_record close: %v", cerr)
	}
	return err
}

func unknownTable(ctx context.Context, d *driver, _ string) error {
	s, err := d.open(ctx, prefix+"no_such_table", true)
	if err != nil {
		return err
	}
	// The open succeeded (it should not have): the failure may still come with the first record.
	if _, err = s.IngestRecordOffsetContext(ctx, jsonRecord(0)); err == nil {
		err = s.FlushContext(ctx)
	}
	s.Close()
	return err
}

// ---- main -----------------------------------------------------------------------------------

func sdkVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == sdkModule {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func main() {
	only := map[string]bool{}
	for _, c := range strings.Split(os.Getenv("NOBUS_CASES"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			only[c] = true
		}
	}
	selected := func(name string) bool { return len(only) == 0 || only[name] }

	out.Encode(struct {
		SDK       string `json:"sdk"`
		Package   string `json:"package"`
		Version   string `json:"version"`
		Registry  string `json:"registry"`
		Transport string `json:"transport"`
		Auth      string `json:"auth"`
		Notes     string `json:"notes"`
	}{"go", sdkModule, sdkVersion(), "Go module proxy", "TLS (h2)", "OAuth client credentials",
		"pure-Go SDK (no plaintext mode). WithStreamPausedMaxWait(2s): the SDK waits the " +
			"close_stream_signal duration (nobusd: 30 s on close-all) before reconnecting. The cgo SDK " +
			"(github.com/databricks/zerobus-sdk/go) is not served by the Go module proxy here."})

	newSDK := func(endpoint, workspace string) *zerobus.SDK {
		sdk, err := zerobus.New(os.Getenv(endpoint), os.Getenv(workspace),
			zerobus.WithApplicationName("nobus-sdk-driver"))
		if err != nil {
			logf("zerobus.New(%s): %v", os.Getenv(endpoint), err)
			os.Exit(2)
		}
		return sdk
	}
	sdk := newSDK("NOBUS_ENDPOINT", "NOBUS_WORKSPACE_URL")
	d := &driver{sdk: sdk, shortSDK: newSDK("NOBUS_SHORT_TTL_ENDPOINT", "NOBUS_SHORT_TTL_WORKSPACE_URL"),
		clientID: os.Getenv("NOBUS_CLIENT_ID"), secret: os.Getenv("NOBUS_CLIENT_SECRET")}

	for _, c := range dataCases {
		if !selected(c.name) {
			continue
		}
		table := prefix + c.name
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		acked, err := c.run(ctx, d, table)
		cancel()
		logf("%s: %v (err=%v)", c.name, time.Since(t0).Round(time.Millisecond), err)
		if err != nil {
			out.Encode(caseLine{Case: c.name, Table: table, Detail: err.Error()})
		} else {
			out.Encode(caseLine{Case: c.name, Table: table, AckedIDs: acked, OK: true})
		}
	}
	errorCases := []struct {
		name string
		run  func(context.Context, *driver, string) error
	}{{"bad_record", badRecord}, {"unknown_table", unknownTable}}
	for _, c := range errorCases {
		if !selected(c.name) {
			continue
		}
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err := c.run(ctx, d, prefix+c.name)
		cancel()
		logf("%s: %v (err=%v)", c.name, time.Since(t0).Round(time.Millisecond), err)
		out.Encode(expectError(c.name, err))
	}
	for _, s := range []*zerobus.SDK{d.sdk, d.shortSDK} {
		if err := s.Close(); err != nil {
			logf("sdk close: %v", err)
		}
	}
}
