package local.nobus.sdkjava;

import com.databricks.zerobus.NonRetriableException;
import com.databricks.zerobus.StreamConfigurationOptions;
import com.databricks.zerobus.ZerobusJsonStream;
import com.databricks.zerobus.ZerobusProtoStream;
import com.databricks.zerobus.ZerobusSdk;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import local.nobus.sdkjava.pb.Reading;

/**
 * Driver for the official Java Zerobus Ingest SDK (com.databricks:zerobus-ingest-sdk) under the
 * contract of test/sdk/README.md: JSON lines on stdout, everything else on stderr.
 *
 * <p>The SDK (a JNI wrapper over the Rust core) only authenticates with OAuth client credentials:
 * every stream creation POSTs {workspace URL}/oidc/v1/token and sends the returned access token as
 * the bearer. The credentials come from NOBUS_CLIENT_ID / NOBUS_CLIENT_SECRET.
 */
public final class Driver {
  private static final String PACKAGE = "com.databricks:zerobus-ingest-sdk";
  private static final long TS_BASE = 1767225600000000L;
  private static final long CASE_TIMEOUT_S = 90;

  private static final PrintStream OUT = System.out;
  private static String prefix;
  private static String control;
  private static String clientId;
  /** The token_refresh case's nobusd, which issues 3-second tokens. */
  private static ZerobusSdk shortSdk;
  private static String clientSecret;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private interface DataCase {
    List<Long> run(ZerobusSdk sdk, String table) throws Exception;
  }

  private interface ErrorCase {
    void run(ZerobusSdk sdk, String table) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    // Anything the SDK or the JVM might print goes to stderr; stdout is only ours.
    System.setOut(System.err);

    String endpoint = env("NOBUS_ENDPOINT", null);
    String workspace = env("NOBUS_WORKSPACE_URL", null);
    prefix = env("NOBUS_TABLE_PREFIX", "sdk.java.");
    control = env("NOBUS_CONTROL", "");
    clientId = env("NOBUS_CLIENT_ID", null);
    clientSecret = env("NOBUS_CLIENT_SECRET", null);

    Map<String, Object> info = new LinkedHashMap<>();
    info.put("sdk", "java");
    info.put("package", PACKAGE);
    info.put("version", sdkVersion());
    info.put("registry", "Maven Central");
    info.put("transport", "TLS (h2)");
    info.put("auth", "OAuth client credentials");
    emit(info);
    if (endpoint == null || workspace == null || clientId == null || clientSecret == null) {
      log("NOBUS_ENDPOINT, NOBUS_WORKSPACE_URL, NOBUS_CLIENT_ID and NOBUS_CLIENT_SECRET are required");
      System.exit(2);
    }

    Map<String, DataCase> dataCases = new LinkedHashMap<>();
    dataCases.put("json_single", (sdk, t) -> waitCase(sdk, t, 0, true, 0));
    dataCases.put("json_batch", (sdk, t) -> waitCase(sdk, t, 1000, true, 100));
    dataCases.put("proto_single", (sdk, t) -> waitCase(sdk, t, 2000, false, 0));
    dataCases.put("proto_batch", (sdk, t) -> waitCase(sdk, t, 3000, false, 100));
    dataCases.put("flush_close", Driver::flushClose);
    dataCases.put("close_signal", (sdk, t) -> around(sdk, t, 5000, "close-all"));
    dataCases.put("restart", (sdk, t) -> around(sdk, t, 6000, "restart"));
    dataCases.put("token_refresh", (sdk, t) -> tokenRefresh(t));
    Map<String, ErrorCase> errorCases = new LinkedHashMap<>();
    errorCases.put("bad_record", Driver::badRecord);
    errorCases.put("unknown_table", Driver::unknownTable);

    Set<String> only = null;
    String casesEnv = System.getenv("NOBUS_CASES");
    if (casesEnv != null && !casesEnv.isBlank()) {
      only = new TreeSet<>();
      for (String c : casesEnv.split(",")) {
        if (!c.isBlank()) only.add(c.trim());
      }
    }

    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "case");
      t.setDaemon(true);
      return t;
    });
    boolean hung = false;
    shortSdk = new ZerobusSdk(env("NOBUS_SHORT_TTL_ENDPOINT", endpoint),
        env("NOBUS_SHORT_TTL_WORKSPACE_URL", workspace));
    try (ZerobusSdk sdk = new ZerobusSdk(endpoint, workspace); ZerobusSdk unused = shortSdk) {
      for (Map.Entry<String, DataCase> e : dataCases.entrySet()) {
        String name = e.getKey();
        if (only != null && !only.contains(name)) continue;
        String table = prefix + name;
        long t0 = System.nanoTime();
        Future<List<Long>> f = pool.submit(() -> e.getValue().run(sdk, table));
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("case", name);
        line.put("table", table);
        try {
          List<Long> acked = f.get(CASE_TIMEOUT_S, TimeUnit.SECONDS);
          line.put("acked_ids", acked);
          line.put("ok", true);
        } catch (TimeoutException te) {
          f.cancel(true);
          hung = true;
          line.put("ok", false);
          line.put("detail", "no result within " + CASE_TIMEOUT_S + " s (the SDK hung)");
        } catch (ExecutionException ee) {
          line.put("ok", false);
          line.put("detail", describe(unwrap(ee)));
        }
        log(name + ": " + (Boolean.TRUE.equals(line.get("ok")) ? "ok" : line.get("detail"))
            + String.format(" (%.1f s)", (System.nanoTime() - t0) / 1e9));
        emit(line);
      }
      for (Map.Entry<String, ErrorCase> e : errorCases.entrySet()) {
        String name = e.getKey();
        if (only != null && !only.contains(name)) continue;
        String table = prefix + name;
        long t0 = System.nanoTime();
        Future<Object> f = pool.submit(() -> {
          e.getValue().run(sdk, table);
          return null;
        });
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("case", name);
        try {
          f.get(CASE_TIMEOUT_S, TimeUnit.SECONDS);
          line.put("ok", false);
          line.put("detail", "the SDK reported no error");
        } catch (TimeoutException te) {
          f.cancel(true);
          hung = true;
          line.put("ok", false);
          line.put("detail", "no error within " + CASE_TIMEOUT_S + " s (the SDK hung)");
        } catch (ExecutionException ee) {
          Throwable err = unwrap(ee);
          line.put("ok", true);
          line.put("error_class", err.getClass().getName());
          // The SDK's own verdict: its native layer throws NonRetriableException exactly when
          // the Rust error says is_retryable() == false.
          line.put("non_retriable", err instanceof NonRetriableException);
          line.put("message", String.valueOf(err.getMessage()));
        }
        log(name + ": " + line + String.format(" (%.1f s)", (System.nanoTime() - t0) / 1e9));
        emit(line);
      }
    }
    OUT.flush();
    // A hung case leaves a native call blocked; do not wait for it.
    if (hung) Runtime.getRuntime().halt(0);
    System.exit(0);
  }

  // ---- records ---------------------------------------------------------------------------

  static String jsonRecord(long id) {
    return "{\"id\":" + id + ",\"device\":\"dev-" + (id % 10) + "\",\"temp\":" + (id / 4.0)
        + ",\"ok\":" + (id % 2 == 0) + ",\"ts\":" + (TS_BASE + id * 1000) + "}";
  }

  static Reading protoRecord(long id) {
    return Reading.newBuilder()
        .setId(id)
        .setDevice("dev-" + (id % 10))
        .setTemp(id / 4.0)
        .setOk(id % 2 == 0)
        .setTs(TS_BASE + id * 1000)
        .build();
  }

  static List<Long> ids(long from, int n) {
    List<Long> r = new ArrayList<>(n);
    for (int i = 0; i < n; i++) r.add(from + i);
    return r;
  }

  // ---- SDK plumbing ----------------------------------------------------------------------

  /** Short timeouts so a hang fails well within a minute; recovery on. */
  static StreamConfigurationOptions options() {
    return StreamConfigurationOptions.builder()
        .setRecovery(true)
        .setRecoveryRetries(4)
        .setRecoveryBackoffMs(500)
        .setRecoveryTimeoutMs(10_000)
        .setServerLackOfAckTimeoutMs(15_000)
        .setFlushTimeoutMs(45_000)
        .build();
  }

  static ZerobusJsonStream openJson(ZerobusSdk sdk, String table) throws Exception {
    return sdk.createJsonStream(table, clientId, clientSecret, options()).get(60, TimeUnit.SECONDS);
  }

  static ZerobusProtoStream openProto(ZerobusSdk sdk, String table) throws Exception {
    return sdk.createProtoStream(
            table, Reading.getDescriptor().toProto(), clientId, clientSecret, options())
        .get(60, TimeUnit.SECONDS);
  }

  static void closeQuietly(AutoCloseable s) {
    try {
      s.close();
    } catch (Exception e) {
      log("close after failure: " + describe(e));
    }
  }

  // ---- data cases ------------------------------------------------------------------------

  /** The calls the wait cases make, over the SDK's JSON or proto stream (they share no public type). */
  interface Ingester extends AutoCloseable {
    long one(long id) throws Exception;

    long batch(List<Long> ids) throws Exception;

    void waitForOffset(long offset) throws Exception;
  }

  static Ingester jsonIngester(ZerobusJsonStream s) {
    return new Ingester() {
      public long one(long id) throws Exception {
        return s.ingestRecordOffset(jsonRecord(id));
      }

      public long batch(List<Long> ids) throws Exception {
        return s.ingestRecordsOffset(ids.stream().map(Driver::jsonRecord).toList()).orElseThrow();
      }

      public void waitForOffset(long offset) throws Exception {
        s.waitForOffset(offset);
      }

      public void close() throws Exception {
        s.close();
      }
    };
  }

  static Ingester protoIngester(ZerobusProtoStream s) {
    return new Ingester() {
      public long one(long id) throws Exception {
        return s.ingestRecordOffset(protoRecord(id));
      }

      public long batch(List<Long> ids) throws Exception {
        return s.ingestRecordsOffset(ids.stream().map(Driver::protoRecord).toList()).orElseThrow();
      }

      public void waitForOffset(long offset) throws Exception {
        s.waitForOffset(offset);
      }

      public void close() throws Exception {
        s.close();
      }
    };
  }

  /** Open, ingest (one call per record, or batches of `batch`), wait for the last offset, close. */
  static List<Long> waitCase(ZerobusSdk sdk, String table, long from, boolean json, int batch)
      throws Exception {
    List<Long> idList = ids(from, batch == 0 ? 200 : 500);
    Ingester s = json ? jsonIngester(openJson(sdk, table)) : protoIngester(openProto(sdk, table));
    try {
      long last = -1;
      if (batch == 0) {
        for (long id : idList) last = s.one(id);
      } else {
        for (int i = 0; i < idList.size(); i += batch) {
          last = s.batch(idList.subList(i, Math.min(i + batch, idList.size())));
        }
      }
      s.waitForOffset(last);
    } catch (Exception e) {
      closeQuietly(s);
      throw e;
    }
    s.close();
    return idList;
  }

  /** 100 records without waiting, flush(), 100 more, close() (which flushes). */
  static List<Long> flushClose(ZerobusSdk sdk, String table) throws Exception {
    List<Long> idList = ids(4000, 200);
    ZerobusJsonStream s = openJson(sdk, table);
    try {
      for (long id : idList.subList(0, 100)) s.ingestRecordOffset(jsonRecord(id));
      s.flush();
      for (long id : idList.subList(100, 200)) s.ingestRecordOffset(jsonRecord(id));
    } catch (Exception e) {
      closeQuietly(s);
      throw e;
    }
    s.close();
    return idList;
  }

  /** 100 records, flush, the control action, 200 more, flush, close; the SDK recovers by itself. */
  static List<Long> around(ZerobusSdk sdk, String table, long from, String action)
      throws Exception {
    List<Long> idList = ids(from, 300);
    ZerobusJsonStream s = openJson(sdk, table);
    try {
      for (long id : idList.subList(0, 100)) s.ingestRecordOffset(jsonRecord(id));
      s.flush();
      postControl(action);
      long t0 = System.nanoTime();
      for (long id : idList.subList(100, 300)) s.ingestRecordOffset(jsonRecord(id));
      s.flush();
      log(String.format("%s: 200 records + flush after %s: %.1f s", table, action,
          (System.nanoTime() - t0) / 1e9));
    } catch (Exception e) {
      closeQuietly(s);
      throw e;
    }
    s.close();
    return idList;
  }

  /**
   * 300 records over ~8 s on one stream whose tokens last 3 s: nobusd closes the stream as each
   * token expires; the SDK must reconnect with a new token and resend what was not acked.
   */
  static List<Long> tokenRefresh(String table) throws Exception {
    List<Long> idList = ids(7000, 300);
    ZerobusJsonStream s = openJson(shortSdk, table);
    try {
      for (long id : idList) {
        s.ingestRecordOffset(jsonRecord(id));
        Thread.sleep(8000 / idList.size());
      }
      s.flush();
    } catch (Exception e) {
      closeQuietly(s);
      throw e;
    }
    s.close();
    return idList;
  }

  static void postControl(String what) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(control + "/" + what))
        .timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.noBody())
        .build();
    HttpResponse<String> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    if (resp.statusCode() != 200) {
      throw new IllegalStateException("control " + what + ": " + resp.statusCode() + " "
          + resp.body());
    }
    log("control " + what + " -> " + resp.body().strip());
  }

  // ---- error cases -----------------------------------------------------------------------

  static void badRecord(ZerobusSdk sdk, String table) throws Exception {
    ZerobusJsonStream s = openJson(sdk, table);
    try {
      s.ingestRecordOffset("{\"id\": \"not-a-number\"}");
      s.flush();
    } finally {
      closeQuietly(s);
    }
  }

  static void unknownTable(ZerobusSdk sdk, String ignored) throws Exception {
    ZerobusJsonStream s = openJson(sdk, prefix + "no_such_table");
    // The open succeeded (it should not have): the failure may still come with the first record.
    try {
      s.ingestRecordOffset(jsonRecord(0));
      s.flush();
    } finally {
      closeQuietly(s);
    }
  }

  // ---- output ----------------------------------------------------------------------------

  static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof CompletionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  static String describe(Throwable t) {
    t = unwrap(t);
    return t.getClass().getName() + ": " + t.getMessage();
  }

  static String sdkVersion() {
    try (InputStream in = ZerobusSdk.class.getResourceAsStream(
        "/META-INF/maven/com.databricks/zerobus-ingest-sdk/pom.properties")) {
      Properties p = new Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "unknown");
    } catch (Exception e) {
      return "unknown";
    }
  }

  static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? dflt : v;
  }

  static void log(String msg) {
    System.err.println("sdk-java: " + msg);
  }

  static synchronized void emit(Map<String, Object> obj) {
    StringBuilder b = new StringBuilder();
    json(b, obj);
    OUT.println(b);
    OUT.flush();
  }

  @SuppressWarnings("unchecked")
  static void json(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof Map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
        if (!first) b.append(", ");
        first = false;
        json(b, e.getKey());
        b.append(": ");
        json(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof List) {
      b.append('[');
      boolean first = true;
      for (Object o : (List<Object>) v) {
        if (!first) b.append(", ");
        first = false;
        json(b, o);
      }
      b.append(']');
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else {
      String s = v.toString();
      b.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"': b.append("\\\""); break;
          case '\\': b.append("\\\\"); break;
          case '\n': b.append("\\n"); break;
          case '\r': b.append("\\r"); break;
          case '\t': b.append("\\t"); break;
          default:
            if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
      }
      b.append('"');
    }
  }

  private Driver() {}
}
