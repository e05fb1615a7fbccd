package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accr tls init}: node certificates with names of their own and names for all. */
class TlsInitCommandTest {
  @TempDir Path tmp;

  @Test
  void eachNodeCertificateNamesItsOwnHostsAndTheSharedOnes() throws Exception {
    Path dir = tmp.resolve("tls");
    CliRun init = accr("tls", "init", dir.toString(), "--node", "a=a.example,10.1.2.3",
        "--node", "b", "--san", "shared.example");
    assertEquals(0, init.code(), init.err());
    Set<String> a = names(dir.resolve("a.pem"));
    Set<String> b = names(dir.resolve("b.pem"));
    assertTrue(a.containsAll(List.of("a", "a.example", "10.1.2.3", "shared.example",
        "localhost", "127.0.0.1")), a.toString());
    assertTrue(b.containsAll(List.of("b", "shared.example", "localhost")), b.toString());
    assertFalse(b.contains("a.example") || b.contains("10.1.2.3"), "b is not a: " + b);
    assertFalse(a.contains("b"), a.toString());
  }

  @Test
  void aBadHostOfANodeIsAUsageErrorAndWritesNothing() {
    Path dir = tmp.resolve("tls");
    CliRun bad = accr("tls", "init", dir.toString(), "--node", "a=good.example,,x");
    assertEquals(2, bad.code(), bad.err());
    assertEquals(1, bad.err().strip().lines().count(), bad.err());
    assertTrue(bad.err().contains("--node a=''"), bad.err());
    assertFalse(Files.exists(dir.resolve("a.pem")));
  }

  private static Set<String> names(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
      Set<String> names = new TreeSet<>();
      for (List<?> san : cert.getSubjectAlternativeNames()) {
        names.add(String.valueOf(san.get(1)));
      }
      return names;
    }
  }
}
