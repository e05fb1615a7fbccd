package dev.accr.node.tls;

import dev.accr.api.AccrException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** Reads and writes certificates and private keys as PEM files. */
final class Pem {
  /** Certificate and key files are small; anything larger is not one. */
  private static final long MAX_FILE_BYTES = 1 << 20;

  private Pem() {}

  static List<X509Certificate> certificates(Path file) {
    try (InputStream in = Files.newInputStream(checkSize(file))) {
      List<X509Certificate> certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(in).stream().map(c -> (X509Certificate) c).toList();
      if (certs.isEmpty()) {
        throw AccrException.failed("%s holds no certificate", file);
      }
      return certs;
    } catch (NoSuchFileException e) {
      throw AccrException.failed("no %s (create it with accr tls init)", file);
    } catch (IOException | CertificateException e) {
      throw AccrException.failed("%s is not a PEM certificate: %s", file, e.getMessage());
    }
  }

  static PrivateKey privateKey(Path file) {
    try (Reader in = Files.newBufferedReader(checkSize(file), StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(in)) {
      Object o = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (o instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      throw AccrException.failed("%s holds no unencrypted private key", file);
    } catch (NoSuchFileException e) {
      throw AccrException.failed("no %s (create it with accr tls init)", file);
    } catch (IOException | RuntimeException e) {
      if (e instanceof AccrException a) {
        throw a;
      }
      throw AccrException.failed("%s is not a PEM private key: %s", file, e.getMessage());
    }
  }

  /** Writes {@code objects} to a new file readable by its owner only. */
  static void write(Path file, Object... objects) {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rw-------")));
      try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII,
          StandardOpenOption.TRUNCATE_EXISTING);
          JcaPEMWriter pem = new JcaPEMWriter(out)) {
        for (Object o : objects) {
          pem.writeObject(o instanceof PrivateKey key ? new JcaPKCS8Generator(key, null) : o);
        }
      }
    } catch (FileAlreadyExistsException e) {
      throw AccrException.failed("%s already exists", file);
    } catch (IOException e) {
      throw AccrException.failed("cannot write %s: %s", file, e.getMessage());
    }
  }

  private static Path checkSize(Path file) throws IOException {
    if (Files.exists(file) && (!Files.isRegularFile(file) || Files.size(file) > MAX_FILE_BYTES)) {
      throw AccrException.failed("%s is not a PEM file", file);
    }
    return file;
  }
}
