package dev.accr.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accr tls init}'s files: permissions, chains, names and validity. */
class CertificateAuthorityTest {
  @TempDir Path tmp;

  @Test
  void aNewCaIssuesNodeAndClientCertificatesThatChainToIt() throws Exception {
    TlsDirectory dir = new TlsDirectory(tmp.resolve("tls"));
    CertificateAuthority ca = CertificateAuthority.openOrCreate(dir);
    ca.issueNode("a", List.of("10.0.0.7", "a.example"), 365);
    ca.issueClient("client", 365);

    assertEquals("rwx------", perms(dir.path()));
    for (Path p : List.of(dir.caKey(), dir.key("a"), dir.key("client"))) {
      assertEquals("rw-------", perms(p), p.toString());
    }
    X509Certificate caCert = Pem.certificates(dir.ca()).getFirst();
    X509Certificate node = Pem.certificates(dir.certificate("a")).getFirst();
    X509Certificate client = Pem.certificates(dir.certificate("client")).getFirst();
    validate(caCert, node);
    validate(caCert, client);
    assertEquals(-1, node.getBasicConstraints(), "not a CA");
    assertTrue(caCert.getBasicConstraints() >= 0, "the CA is one");

    assertEquals("a", TlsIdentity.commonName(node.getSubjectX500Principal()));
    assertEquals(Set.of("a", "localhost", "127.0.0.1", "0:0:0:0:0:0:0:1", "10.0.0.7", "a.example"),
        node.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1)))
            .collect(Collectors.toSet()));
    assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), node.getExtendedKeyUsage(),
        "a node serves and is a client of other nodes");
    assertEquals(List.of("1.3.6.1.5.5.7.3.2"), client.getExtendedKeyUsage(), "client auth only");
    long days = (node.getNotAfter().getTime() - System.currentTimeMillis()) / 86_400_000L;
    assertTrue(days >= 364 && days <= 366, days + " days");

    // The key matches the certificate: it signs what the certificate's key verifies.
    var sig = java.security.Signature.getInstance("SHA256withECDSA");
    sig.initSign(Pem.privateKey(dir.key("a")));
    sig.update(new byte[] {1, 2, 3});
    byte[] signature = sig.sign();
    sig.initVerify(node);
    sig.update(new byte[] {1, 2, 3});
    assertTrue(sig.verify(signature));
  }

  @Test
  void aSecondRunAddsNamesWithTheSameCaAndNeverOverwrites() throws Exception {
    TlsDirectory dir = new TlsDirectory(tmp.resolve("tls"));
    X509Certificate first = CertificateAuthority.openOrCreate(dir).certificate();
    CertificateAuthority again = CertificateAuthority.openOrCreate(dir);
    assertEquals(first, again.certificate());
    again.issueNode("b", List.of(), 365);
    validate(first, Pem.certificates(dir.certificate("b")).getFirst());
    byte[] before = Files.readAllBytes(dir.key("b"));
    AccrException e = assertThrows(AccrException.class, () -> again.issueNode("b", List.of(), 1));
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().endsWith("b.pem already exists"), e.getMessage());
    assertEquals(-1, java.util.Arrays.mismatch(before, Files.readAllBytes(dir.key("b"))));

    X509Certificate other = CertificateAuthority.openOrCreate(
        new TlsDirectory(tmp.resolve("other"))).certificate();
    assertNotEquals(first.getSubjectX500Principal(), other.getSubjectX500Principal(),
        "each CA has a name of its own");
  }

  @Test
  void aNegativeValidityGivesAnExpiredCertificate() throws Exception {
    TlsDirectory dir = new TlsDirectory(tmp.resolve("tls"));
    CertificateAuthority.openOrCreate(dir).issueClient("old", -1);
    X509Certificate old = Pem.certificates(dir.certificate("old")).getFirst();
    assertThrows(CertificateExpiredException.class, old::checkValidity);
    AccrException e = assertThrows(AccrException.class,
        () -> TlsIdentity.load(dir, "old").checkCurrent());
    assertTrue(e.getMessage().matches("certificate .*old\\.pem expired on .*"), e.getMessage());
  }

  @Test
  void aDirectoryOthersMayReadOrAKeyOthersMayReadIsRefused() throws Exception {
    Path open = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-x---"));
    AccrException e = assertThrows(AccrException.class,
        () -> CertificateAuthority.openOrCreate(new TlsDirectory(open)));
    assertTrue(e.getMessage().contains("may be read by others"), e.getMessage());

    TlsDirectory dir = new TlsDirectory(tmp.resolve("tls"));
    CertificateAuthority.openOrCreate(dir).issueClient("client", 30);
    Files.setPosixFilePermissions(dir.key("client"), PosixFilePermissions.fromString("rw-r-----"));
    AccrException key = assertThrows(AccrException.class, () -> TlsIdentity.load(dir, "client"));
    assertTrue(key.getMessage().contains("readable by its owner only"), key.getMessage());
  }

  @Test
  void namesThatAreNotFileNamesAreUsageErrors() {
    for (String bad : List.of("../x", "ca", "", "a/b", "-x")) {
      AccrException e = assertThrows(AccrException.class, () -> TlsDirectory.checkName(bad));
      assertEquals(AccrException.USAGE, e.exitCode(), bad);
    }
  }

  private void validate(X509Certificate ca, X509Certificate cert) throws Exception {
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    params.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX").validate(
        CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), params);
    X509Certificate stranger = CertificateAuthority.openOrCreate(
        new TlsDirectory(Files.createTempDirectory(tmp, "ca-"))).certificate();
    PKIXParameters wrong = new PKIXParameters(Set.of(new TrustAnchor(stranger, null)));
    wrong.setRevocationEnabled(false);
    assertThrows(CertPathValidatorException.class, () -> CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), wrong));
  }

  private static String perms(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
