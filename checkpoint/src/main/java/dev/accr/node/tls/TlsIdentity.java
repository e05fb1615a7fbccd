package dev.accr.node.tls;

import dev.accr.api.AccrException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;

/**
 * One node's or client's TLS identity: its certificate and key, and the CA it trusts. Its
 * {@link SSLContext} speaks TLS 1.3 only and trusts that CA alone.
 */
public final class TlsIdentity {
  public static final String PROTOCOL = "TLSv1.3";

  private final TlsDirectory dir;
  private final String name;
  private final X509Certificate certificate;
  private final SSLContext context;

  private TlsIdentity(TlsDirectory dir, String name, X509Certificate certificate,
      SSLContext context) {
    this.dir = dir;
    this.name = name;
    this.certificate = certificate;
    this.context = context;
  }

  /**
   * Loads {@code ca.pem}, {@code NAME.pem} and {@code NAME.key} of {@code dir}; a missing or
   * unreadable file, or a key others may read, fails with a one-line message. The certificate's
   * dates are not checked here (see {@link #checkCurrent()}).
   */
  public static TlsIdentity load(TlsDirectory dir, String name) {
    List<X509Certificate> ca = Pem.certificates(dir.ca());
    List<X509Certificate> chain = Pem.certificates(dir.certificate(name));
    X509Certificate cert = chain.getFirst();
    TlsDirectory.checkOwnerOnly(dir.key(name));
    PrivateKey key = Pem.privateKey(dir.key(name));
    try {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      for (int i = 0; i < ca.size(); i++) {
        trusted.setCertificateEntry("ca" + i, ca.get(i));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trusted);
      SSLContext context = SSLContext.getInstance(PROTOCOL);
      context.init(new KeyManager[] {new OwnKeyManager(chain, key)}, tmf.getTrustManagers(),
          null);
      return new TlsIdentity(dir, name, cert, context);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw AccrException.failed("%s and %s do not make a TLS identity: %s",
          dir.certificate(name), dir.key(name), e.getMessage());
    }
  }

  /** Fails with a one-line message when this identity's certificate is not valid now. */
  public TlsIdentity checkCurrent() {
    try {
      certificate.checkValidity();
      return this;
    } catch (CertificateExpiredException e) {
      throw AccrException.failed("certificate %s expired on %s", dir.certificate(name),
          certificate.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw AccrException.failed("certificate %s is not valid before %s", dir.certificate(name),
          certificate.getNotBefore().toInstant());
    }
  }

  public String name() {
    return name;
  }

  public TlsDirectory directory() {
    return dir;
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public SSLContext context() {
    return context;
  }

  /** TLS 1.3 only; a server also demands the client's certificate. */
  public SSLParameters parameters(boolean server) {
    SSLParameters p = context.getDefaultSSLParameters();
    p.setProtocols(new String[] {PROTOCOL});
    if (server) {
      p.setNeedClientAuth(true);
    } else {
      p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the address
    }
    return p;
  }

  /** The common name (CN) of {@code subject}, or empty. */
  public static String commonName(X500Principal subject) {
    try {
      for (Rdn rdn : new LdapName(subject.getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return rdn.getValue().toString();
        }
      }
      return "";
    } catch (InvalidNameException e) {
      return "";
    }
  }
}
