package dev.accr.node.tls;

import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/** Says in a few words why a TLS handshake failed, on either end, from the JDK's exceptions. */
public final class TlsFailures {
  private TlsFailures() {}

  /**
   * Why a node refused a peer (for its log) whose handshake failed with {@code e}; the peer had
   * {@code allowance} for its handshake.
   */
  public static String serverReason(Throwable e, Duration allowance) {
    String all = messages(e);
    if (has(e, SocketTimeoutException.class)) {
      return noHandshake(allowance);
    }
    if (all.contains("empty client certificate chain") || all.contains("certificate_required")) {
      return "no client certificate";
    }
    return certificateReason(e, all, "certificate")
        .orElse(all.contains("unrecognized ssl message") ? "not a TLS client"
            : firstLine(e));
  }

  /** Why a node cut a peer that did not complete its handshake within {@code allowance}. */
  public static String noHandshake(Duration allowance) {
    return "no TLS handshake within " + BigDecimal.valueOf(allowance.toMillis(), 3)
        .stripTrailingZeros().toPlainString() + " s";
  }

  /**
   * Why a client with identity {@code client} could not talk to a node at {@code host} over
   * TLS, as the end of a sentence that starts with the node's name.
   */
  public static String clientReason(Throwable e, TlsIdentity client, String host) {
    String all = messages(e);
    if (all.contains("no subject alternative") || all.contains("no name matching")) {
      return "its certificate does not name the address " + host
          + " (give --san " + host + " to accr tls init for that node)";
    }
    var cert = certificateReason(e, all, "its certificate");
    if (cert.isPresent()) {
      return cert.get().replace("this node's CA", client.directory().ca().toString());
    }
    if (all.contains("unrecognized ssl message") || all.contains("plaintext connection")) {
      return "it does not speak TLS (a node started with --insecure): connect without --tls";
    }
    if (all.contains("received fatal alert")) {
      String alert = all.substring(all.indexOf("received fatal alert:") + 21).strip()
          .split("[\\s;]")[0];
      return "it refused the client certificate " + client.directory().certificate(client.name())
          + " (" + alert + ")";
    }
    if (has(e, SocketTimeoutException.class)) {
      return "no TLS handshake in time";
    }
    if (all.contains("terminated the handshake") || all.contains("connection reset")) {
      return "it closed the connection during the TLS handshake";
    }
    return "TLS failed: " + firstLine(e);
  }

  private static Optional<String> certificateReason(Throwable e, String all,
      String whose) {
    if (has(e, CertificateExpiredException.class) || all.contains("certificate expired")
        || reason(e) == CertPathValidatorException.BasicReason.EXPIRED) {
      return Optional.of(whose + " has expired");
    }
    if (has(e, CertificateNotYetValidException.class)
        || reason(e) == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
      return Optional.of(whose + " is not valid yet");
    }
    if (all.contains("unable to find valid certification path")
        || all.contains("signature check failed")) {
      return Optional.of(whose + " is not signed by this node's CA");
    }
    if (all.contains("extended key usage") || all.contains("keyusage")) {
      return Optional.of(whose + " is not meant for this use");
    }
    return Optional.empty();
  }

  private static CertPathValidatorException.Reason reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertPathValidatorException v) {
        return v.getReason();
      }
    }
    return null;
  }

  private static boolean has(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String messages(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append(" | ");
    }
    return all.toString().toLowerCase(Locale.ROOT);
  }

  private static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.lines().findFirst().orElse("").strip();
  }
}
