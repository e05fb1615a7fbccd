package dev.accr.node.tls;

import dev.accr.api.AccrException;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority for accr nodes and clients ({@code accr tls init}): EC P-256 keys,
 * ECDSA-SHA256 signatures. Node certificates name the node (CN and a DNS name) and the loopback
 * addresses, and serve both ends of TLS (nodes are clients of other nodes); client certificates
 * only authenticate clients.
 */
public final class CertificateAuthority {
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  private static final List<String> LOOPBACK_NAMES = List.of("localhost", "127.0.0.1", "::1");
  private static final String SIGNATURE = "SHA256withECDSA";

  private final TlsDirectory dir;
  private final X509Certificate certificate;
  private final PrivateKey key;
  private final SecureRandom random = new SecureRandom();

  private CertificateAuthority(TlsDirectory dir, X509Certificate certificate, PrivateKey key) {
    this.dir = dir;
    this.certificate = certificate;
    this.key = key;
  }

  /**
   * The CA of {@code dir}: the existing one when {@code ca.pem} and {@code ca.key} are there,
   * else a new one. The directory is created owner-only; an existing one must be.
   */
  public static CertificateAuthority openOrCreate(TlsDirectory dir) {
    Path path = dir.path();
    try {
      if (!Files.exists(path)) {
        Files.createDirectories(path, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
      } else if (!Files.isDirectory(path)) {
        throw AccrException.failed("%s is not a directory", path);
      } else if (!PosixFilePermissions.toString(Files.getPosixFilePermissions(path))
          .endsWith("------")) {
        throw AccrException.failed("%s may be read by others: use a new directory or chmod 700 %s",
            path, path);
      }
    } catch (IOException e) {
      throw AccrException.failed("cannot create %s: %s", path, e.getMessage());
    }
    if (Files.exists(dir.ca()) || Files.exists(dir.caKey())) {
      TlsDirectory.checkOwnerOnly(dir.caKey());
      return new CertificateAuthority(dir, Pem.certificates(dir.ca()).getFirst(),
          Pem.privateKey(dir.caKey()));
    }
    return createIn(dir);
  }

  private static CertificateAuthority createIn(TlsDirectory dir) {
    SecureRandom random = new SecureRandom();
    KeyPair pair = newKeyPair();
    // A CA name of its own: a certificate of another accr CA is then "of another CA".
    byte[] id = new byte[6];
    random.nextBytes(id);
    X500Name name = new X500Name("CN=accr CA " + HexFormat.of().formatHex(id));
    Instant now = Instant.now();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(random),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_VALIDITY)), name,
          pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false,
              ext.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate cert = sign(b, pair.getPrivate());
      Pem.write(dir.caKey(), pair.getPrivate());
      Pem.write(dir.ca(), cert);
      return new CertificateAuthority(dir, cert, pair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw AccrException.failed("cannot create a CA: %s", e.getMessage());
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * Issues {@code NAME.pem} and {@code NAME.key} for a node: valid for {@code days} from now
   * (a negative number gives a certificate that has already expired), naming the node, the
   * loopback addresses and {@code extraNames} (host names or IP addresses).
   */
  public X509Certificate issueNode(String name, List<String> extraNames, int days) {
    Set<String> names = new LinkedHashSet<>();
    names.add(name);
    names.addAll(LOOPBACK_NAMES);
    names.addAll(extraNames);
    return issue(name, List.copyOf(names), true, days);
  }

  /** Issues {@code NAME.pem} and {@code NAME.key} for a client. */
  public X509Certificate issueClient(String name, int days) {
    return issue(name, List.of(), false, days);
  }

  private X509Certificate issue(String name, List<String> altNames, boolean node, int days) {
    TlsDirectory.checkName(name);
    for (Path p : List.of(dir.certificate(name), dir.key(name))) {
      if (Files.exists(p)) {
        throw AccrException.failed("%s already exists", p);
      }
    }
    KeyPair pair = newKeyPair();
    Instant now = Instant.now();
    Instant notAfter = now.plus(Duration.ofDays(days));
    Instant notBefore = (days > 0 ? now : notAfter).minus(Duration.ofDays(1));
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(random),
          Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + name),
          pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, node
              ? new ExtendedKeyUsage(new KeyPurposeId[] {
                  KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth})
              : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
          .addExtension(Extension.subjectKeyIdentifier, false,
              ext.createSubjectKeyIdentifier(pair.getPublic()))
          .addExtension(Extension.authorityKeyIdentifier, false,
              ext.createAuthorityKeyIdentifier(certificate));
      if (!altNames.isEmpty()) {
        List<GeneralName> general = new ArrayList<>();
        for (String n : altNames) {
          general.add(isAddress(n) ? new GeneralName(GeneralName.iPAddress, n)
              : new GeneralName(GeneralName.dNSName, n));
        }
        b.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(general.toArray(GeneralName[]::new)));
      }
      X509Certificate cert = sign(b, key);
      Pem.write(dir.key(name), pair.getPrivate());
      Pem.write(dir.certificate(name), cert);
      return cert;
    } catch (GeneralSecurityException | CertIOException e) {
      throw AccrException.failed("cannot issue a certificate for %s: %s", name, e.getMessage());
    }
  }

  private static boolean isAddress(String name) {
    try {
      InetAddress.ofLiteral(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw AccrException.failed("cannot generate an EC key: %s", e.getMessage());
    }
  }

  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(64, random).setBit(63); // positive, never zero
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }
}
