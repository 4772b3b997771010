// The franz-go producer of test/kafka (contract: test/kafka/README.md): the Go module
// github.com/twmb/franz-go (pinned in go.mod) sends COUNT JSON records with ids FIRST..FIRST+COUNT-1
// to one topic and prints one JSON line on stdout: what was acknowledged, at which offsets, and
// every error. Settings not given on the command line stay the client's defaults (franz-go:
// idempotent writes, acks=all, batch compression snappy).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

const module = "github.com/twmb/franz-go"

func payload(id int64) string {
	return fmt.Sprintf("row-%d-%s", id, strings.Repeat("0123456789abcdef", 4))
}

func value(id int64, tag string) []byte {
	return fmt.Appendf(nil, `{"id":%d,"tag":%q,"payload":%q}`, id, tag, payload(id))
}

func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				return dep.Version
			}
		}
	}
	return "unknown"
}

type result struct {
	Client     string            `json:"client"`
	Library    string            `json:"library"`
	Version    string            `json:"version"`
	Config     map[string]string `json:"config"`
	Acked      int               `json:"acked"`
	Failed     int               `json:"failed"`
	Seconds    float64           `json:"seconds"`
	Partitions []int32           `json:"partitions"`
	Errors     map[string]int    `json:"errors"`
	ErrorCodes map[string]int    `json:"error_codes"` // Kafka error code (as text) -> records
	Offsets    []int64           `json:"offsets"`
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: producer -bootstrap HOST:PORT -topic T -tag TAG -first F -count N
                [-codec none|gzip|snappy|lz4|zstd] [-idempotence true|false] [-acks all|1|0]
                [-linger-ms MS] [-timeout-s S] [-log debug|info|warn|error|none]
                [-sasl-mechanism PLAIN|OAUTHBEARER -sasl-token TOKEN] [-tls-ca PEM]
Record value: {"id":ID,"tag":"TAG","payload":"row-ID-" + 4 x "0123456789abcdef"}.
Prints one JSON line: client, library, version, config, acked, failed, errors (message -> count),
error_codes (Kafka code -> count), offsets (per id, -1 when not acknowledged).
Exit 0 when every record was acknowledged, 1 otherwise, 2 on bad usage.
`)
}

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("producer", flag.ContinueOnError)
	fs.Usage = usage
	bootstrap := fs.String("bootstrap", "", "")
	topic := fs.String("topic", "", "")
	tag := fs.String("tag", "", "")
	first := fs.Int64("first", -1, "")
	count := fs.Int("count", -1, "")
	codec := fs.String("codec", "", "")
	idempotence := fs.String("idempotence", "", "")
	acks := fs.String("acks", "", "")
	lingerMs := fs.Int("linger-ms", -1, "")
	timeoutS := fs.Int("timeout-s", 120, "")
	logLevel := fs.String("log", "info", "")
	saslMechanism := fs.String("sasl-mechanism", "", "")
	saslToken := fs.String("sasl-token", "", "")
	tlsCA := fs.String("tls-ca", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *bootstrap == "" || *topic == "" || *tag == "" || *first < 0 || *count < 0 || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "producer: -bootstrap, -topic, -tag, -first and -count are required")
		usage()
		return 2
	}

	config := map[string]string{"seed_brokers": *bootstrap, "client_id": "nobus-test-go-" + *tag}
	opts := []kgo.Opt{
		kgo.SeedBrokers(*bootstrap),
		kgo.DefaultProduceTopic(*topic),
		kgo.ClientID("nobus-test-go-" + *tag),
		kgo.RecordDeliveryTimeout(time.Duration(*timeoutS) * time.Second),
	}
	levels := map[string]kgo.LogLevel{"debug": kgo.LogLevelDebug, "info": kgo.LogLevelInfo,
		"warn": kgo.LogLevelWarn, "error": kgo.LogLevelError, "none": kgo.LogLevelNone}
	level, ok := levels[*logLevel]
	if !ok {
		usage()
		return 2
	}
	opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, level, func() string {
		return time.Now().Format("15:04:05.000 ")
	})))
	if *codec != "" {
		codecs := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(),
			"gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
			"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}
		c, ok := codecs[*codec]
		if !ok {
			usage()
			return 2
		}
		opts = append(opts, kgo.ProducerBatchCompression(c))
		config["compression"] = *codec
	}
	switch *idempotence {
	case "":
	case "false":
		opts = append(opts, kgo.DisableIdempotentWrite())
		config["idempotence"] = "false"
	case "true":
		config["idempotence"] = "true" // the default
	default:
		usage()
		return 2
	}
	switch *acks {
	case "":
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		usage()
		return 2
	}
	if *acks != "" {
		config["acks"] = *acks
	}
	if *lingerMs >= 0 {
		opts = append(opts, kgo.ProducerLinger(time.Duration(*lingerMs)*time.Millisecond))
		config["linger_ms"] = fmt.Sprint(*lingerMs)
	}

	// SASL (over plaintext) with a nobus token: the PLAIN password (any user name) or the
	// OAUTHBEARER bearer token. The token is not echoed in "config".
	switch *saslMechanism {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: "nobus-test", Pass: *saslToken}.AsMechanism()))
	case "OAUTHBEARER":
		opts = append(opts, kgo.SASL(oauth.Auth{Token: *saslToken}.AsMechanism()))
	default:
		usage()
		return 2
	}
	if *saslMechanism != "" {
		config["sasl_mechanism"] = *saslMechanism
	}
	// TLS to the broker, trusting the PEM CA bundle (the certificate and host name are checked).
	if *tlsCA != "" {
		pem, err := os.ReadFile(*tlsCA)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			fmt.Fprintln(os.Stderr, "producer: -tls-ca: no PEM certificates in", *tlsCA, err)
			return 2
		}
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
		config["tls"] = "true"
	}

	client, err := kgo.NewClient(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer: kgo.NewClient:", err)
		return 2
	}
	res := result{Client: "go", Library: module, Version: moduleVersion(), Config: config,
		Errors: map[string]int{}, ErrorCodes: map[string]int{}, Offsets: make([]int64, *count),
		Partitions: []int32{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	started := time.Now()
	ctx := context.Background()
	for i := 0; i < *count; i++ {
		res.Offsets[i] = -1
		index, id := i, *first+int64(i)
		wg.Add(1)
		client.Produce(ctx, &kgo.Record{Value: value(id, *tag)}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failed++
				res.Errors[err.Error()]++
				var ke *kerr.Error
				if errors.As(err, &ke) {
					res.ErrorCodes[fmt.Sprint(ke.Code)]++
				}
				return
			}
			res.Acked++
			res.Offsets[index] = r.Offset
			if !containsInt32(res.Partitions, r.Partition) {
				res.Partitions = append(res.Partitions, r.Partition)
			}
		})
	}
	if err := client.Flush(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "producer: flush:", err)
	}
	wg.Wait()
	client.Close()
	res.Seconds = time.Since(started).Seconds()
	sort.Slice(res.Partitions, func(a, b int) bool { return res.Partitions[a] < res.Partitions[b] })
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	if res.Acked == *count {
		return 0
	}
	return 1
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
