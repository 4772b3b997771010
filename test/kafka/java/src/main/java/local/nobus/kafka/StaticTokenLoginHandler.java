package local.nobus.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

/**
 * The OAUTHBEARER login callback handler of the Java producer (Produce.java --sasl-mechanism
 * OAUTHBEARER): it hands kafka-clients the bearer token given as the JAAS option {@code token}
 * (a nobus access token from POST /oidc/v1/token), with the lifetime of its {@code exp} claim
 * (one hour when it has none). kafka-clients' own handlers either build an unsigned JWT (the
 * unsecured one) or fetch a token from an OAuth endpoint; the test fetches the token itself.
 */
public final class StaticTokenLoginHandler implements AuthenticateCallbackHandler {
  private String token;

  @Override
  public void configure(Map<String, ?> configs, String saslMechanism,
      List<AppConfigurationEntry> jaasConfigEntries) {
    for (AppConfigurationEntry entry : jaasConfigEntries) {
      Object t = entry.getOptions().get("token");
      if (t != null) {
        token = t.toString();
      }
    }
    if (token == null) {
      throw new IllegalArgumentException("StaticTokenLoginHandler: no JAAS option token");
    }
  }

  private static long expiryMs(String jwt) {
    String[] parts = jwt.split("\\.");
    if (parts.length >= 2) {
      try {
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"exp\"\\s*:\\s*(\\d+)").matcher(payload);
        if (m.find()) {
          return Long.parseLong(m.group(1)) * 1000;
        }
      } catch (IllegalArgumentException e) {
        // not a JWT: the default below
      }
    }
    return System.currentTimeMillis() + 3_600_000;
  }

  @Override
  public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
    for (Callback c : callbacks) {
      if (!(c instanceof OAuthBearerTokenCallback)) {
        throw new UnsupportedCallbackException(c);  // e.g. SASL extensions: none
      }
      final String value = token;
      final long lifetime = expiryMs(value);
      final long start = System.currentTimeMillis();
      ((OAuthBearerTokenCallback) c).token(new OAuthBearerToken() {
        @Override
        public String value() {
          return value;
        }

        @Override
        public Set<String> scope() {
          return Set.of();
        }

        @Override
        public long lifetimeMs() {
          return lifetime;
        }

        @Override
        public String principalName() {
          return "nobus-test";
        }

        @Override
        public Long startTimeMs() {
          return start;
        }
      });
    }
  }

  @Override
  public void close() {}
}
