package local.nobus.kafka;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java producer of test/kafka (contract: test/kafka/README.md): org.apache.kafka:kafka-clients
 * sends COUNT JSON records with ids FIRST..FIRST+COUNT-1 to one topic and prints one JSON line on
 * stdout: what was acknowledged, at which offsets, and every error. Settings not given on the
 * command line stay the client's defaults (4.x: enable.idempotence=true, acks=all, no compression).
 */
public final class Produce {
  private static final String USAGE =
      "usage: producer --bootstrap HOST:PORT --topic T --tag TAG --first F --count N\n"
          + "                [--codec none|gzip|snappy|lz4|zstd] [--idempotence true|false]\n"
          + "                [--acks all|1|0] [--linger-ms MS] [--max-block-ms MS]\n"
          + "                [--delivery-timeout-ms MS] [--sasl-mechanism PLAIN|OAUTHBEARER"
          + " --sasl-token TOKEN] [--tls-ca PEM]\n"
          + "                [--pause-every N --pause-ms MS]\n"
          + "Record value: {\"id\":ID,\"tag\":\"TAG\",\"payload\":\"row-ID-\" + 4 x"
          + " \"0123456789abcdef\"}.\n"
          + "Prints one JSON line: client, library, version, config, acked, failed, errors"
          + " (message -> count), error_codes (Kafka code -> count), offsets (per id, -1 when"
          + " not acknowledged, -2 when acknowledged without an offset).\n"
          + "Exit 0 when every record was acknowledged, 1 otherwise, 2 on bad usage.\n";

  static String payload(long id) {
    return "row-" + id + "-" + "0123456789abcdef".repeat(4);
  }

  static String value(long id, String tag) {
    return "{\"id\":" + id + ",\"tag\":\"" + tag + "\",\"payload\":\"" + payload(id) + "\"}";
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /** kafka-clients' own version (its kafka/kafka-version.properties, as its AppInfoParser reads). */
  private static String clientVersion() {
    try (InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static int usage(String why) {
    if (why != null) {
      System.err.println("producer: " + why);
    }
    System.err.print(USAGE);
    return 2;
  }

  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  static int run(String[] args) throws Exception {
    Map<String, String> opt = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        return usage(null);
      }
      if (!a.startsWith("--") || i + 1 >= args.length) {
        return usage("bad argument: " + a);
      }
      opt.put(a.substring(2), args[++i]);
    }
    for (String required : List.of("bootstrap", "topic", "tag", "first", "count")) {
      if (!opt.containsKey(required)) {
        return usage("missing --" + required);
      }
    }
    List<String> known = Arrays.asList("bootstrap", "topic", "tag", "first", "count", "codec",
        "idempotence", "acks", "linger-ms", "max-block-ms", "delivery-timeout-ms",
        "sasl-mechanism", "sasl-token", "tls-ca", "pause-every", "pause-ms");
    for (String k : opt.keySet()) {
      if (!known.contains(k)) {
        return usage("unknown option --" + k);
      }
    }
    String topic = opt.get("topic");
    String tag = opt.get("tag");
    long first = Long.parseLong(opt.get("first"));
    int count = Integer.parseInt(opt.get("count"));

    Properties props = new Properties();
    Map<String, String> set = new TreeMap<>();  // what we set; everything else is the default
    set.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, opt.get("bootstrap"));
    set.put(ProducerConfig.CLIENT_ID_CONFIG, "nobus-test-java-" + tag);
    if (opt.containsKey("codec")) {
      set.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, opt.get("codec"));
    }
    if (opt.containsKey("idempotence")) {
      set.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, opt.get("idempotence"));
    }
    if (opt.containsKey("acks")) {
      set.put(ProducerConfig.ACKS_CONFIG, opt.get("acks"));
    }
    if (opt.containsKey("linger-ms")) {
      set.put(ProducerConfig.LINGER_MS_CONFIG, opt.get("linger-ms"));
    }
    if (opt.containsKey("max-block-ms")) {
      set.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, opt.get("max-block-ms"));
    }
    if (opt.containsKey("delivery-timeout-ms")) {
      set.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, opt.get("delivery-timeout-ms"));
    }
    if (opt.containsKey("sasl-mechanism")) {
      // SASL_PLAINTEXT with a nobus token: the PLAIN password (any user name), or the OAUTHBEARER
      // bearer token through StaticTokenLoginHandler. The token is not echoed in "config".
      String mechanism = opt.get("sasl-mechanism");
      String token = opt.getOrDefault("sasl-token", "").replace("\\", "\\\\").replace("\"", "\\\"");
      set.put("security.protocol", opt.containsKey("tls-ca") ? "SASL_SSL" : "SASL_PLAINTEXT");
      set.put(SaslConfigs.SASL_MECHANISM, mechanism);
      switch (mechanism) {
        case "PLAIN" -> props.put(SaslConfigs.SASL_JAAS_CONFIG,
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"nobus-test\""
                + " password=\"" + token + "\";");
        case "OAUTHBEARER" -> {
          props.put(SaslConfigs.SASL_JAAS_CONFIG,
              "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required"
                  + " token=\"" + token + "\";");
          props.put(SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS,
              StaticTokenLoginHandler.class.getName());
        }
        default -> {
          return usage("unknown --sasl-mechanism " + mechanism);
        }
      }
    }
    if (opt.containsKey("tls-ca")) {
      // TLS to the broker, trusting the PEM CA bundle (the broker's certificate is checked,
      // host name included: ssl.endpoint.identification.algorithm stays https)
      set.putIfAbsent("security.protocol", "SSL");
      set.put("ssl.truststore.type", "PEM");
      set.put("ssl.truststore.location", opt.get("tls-ca"));
    }
    int pauseEvery = Integer.parseInt(opt.getOrDefault("pause-every", "0"));
    long pauseMs = Long.parseLong(opt.getOrDefault("pause-ms", "0"));
    props.putAll(set);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

    long[] offsets = new long[count];
    Arrays.fill(offsets, -1);
    Map<String, Integer> errors = new TreeMap<>();
    Map<String, Integer> errorCodes = new TreeMap<>();  // Kafka error code -> records
    int[] acked = {0};
    int[] failed = {0};
    List<Integer> partitions = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(count);
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < count; i++) {
        if (pauseEvery > 0 && i > 0 && i % pauseEvery == 0) {
          Thread.sleep(pauseMs);  // spread the records over time (test/crash/kafka_kill_loop.py)
        }
        final int index = i;
        long id = first + i;
        byte[] value = value(id, tag).getBytes(StandardCharsets.UTF_8);
        try {
          producer.send(new ProducerRecord<>(topic, value), (md, e) -> {
            synchronized (errors) {
              if (e == null) {
                acked[0]++;
                // -2: acknowledged without an offset (DUPLICATE_SEQUENCE_NUMBER: a retry of a
                // batch the broker already has)
                offsets[index] = md.hasOffset() ? md.offset() : -2;
                if (!partitions.contains(md.partition())) {
                  partitions.add(md.partition());
                }
              } else {
                failed[0]++;
                errors.merge(e.getClass().getSimpleName() + ": " + e.getMessage(), 1,
                    Integer::sum);
                if (e instanceof ApiException) {
                  errorCodes.merge(String.valueOf(Errors.forException(e).code()), 1, Integer::sum);
                }
              }
            }
            done.countDown();
          });
        } catch (Exception e) {  // send() itself failed (metadata timeout, serialization)
          synchronized (errors) {
            failed[0]++;
            errors.merge("send: " + e.getClass().getSimpleName() + ": " + e.getMessage(), 1,
                Integer::sum);
          }
          done.countDown();
        }
      }
      producer.flush();
      if (!done.await(300, TimeUnit.SECONDS)) {
        System.err.println("producer: callbacks missing after flush");
      }
      producer.close(Duration.ofSeconds(30));
    }
    double seconds = (System.nanoTime() - started) / 1e9;

    StringBuilder out = new StringBuilder("{");
    out.append("\"client\":\"java\",\"library\":\"org.apache.kafka:kafka-clients\",\"version\":")
        .append(quote(clientVersion()));
    out.append(",\"config\":{");
    boolean firstEntry = true;
    for (Map.Entry<String, String> e : set.entrySet()) {
      out.append(firstEntry ? "" : ",").append(quote(e.getKey())).append(':')
          .append(quote(e.getValue()));
      firstEntry = false;
    }
    out.append("}");
    synchronized (errors) {
      out.append(",\"acked\":").append(acked[0]).append(",\"failed\":").append(failed[0]);
      out.append(",\"seconds\":").append(String.format("%.3f", seconds));
      out.append(",\"partitions\":").append(partitions);
      out.append(",\"errors\":{");
      firstEntry = true;
      for (Map.Entry<String, Integer> e : errors.entrySet()) {
        out.append(firstEntry ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
        firstEntry = false;
      }
      out.append("},\"error_codes\":{");
      firstEntry = true;
      for (Map.Entry<String, Integer> e : errorCodes.entrySet()) {
        out.append(firstEntry ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
        firstEntry = false;
      }
      out.append("},\"offsets\":[");
      for (int i = 0; i < count; i++) {
        out.append(i == 0 ? "" : ",").append(offsets[i]);
      }
      out.append("]}");
      System.out.println(out);
      System.out.flush();
      return acked[0] == count ? 0 : 1;
    }
  }

  private Produce() {}
}
