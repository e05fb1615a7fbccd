package dev.accr.node.tls;

import dev.accr.api.AccrException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * A directory of TLS material, as {@code accr tls init} writes it: {@code ca.pem} (and the CA's
 * key {@code ca.key}), and {@code NAME.pem} + {@code NAME.key} for each node and client.
 */
public record TlsDirectory(Path path) {
  /** The certificate of the CA every node and client of this directory trusts. */
  public Path ca() {
    return path.resolve("ca.pem");
  }

  public Path caKey() {
    return path.resolve("ca.key");
  }

  public Path certificate(String name) {
    return path.resolve(checkName(name) + ".pem");
  }

  public Path key(String name) {
    return path.resolve(checkName(name) + ".key");
  }

  /** Checks a node or client name: it becomes a file name, and {@code ca} is the CA's. */
  public static String checkName(String name) {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw AccrException.usage("TLS name '%s': use letters, digits, '.', '_' and '-'", name);
    }
    if (name.equals("ca")) {
      throw AccrException.usage("TLS name 'ca' is the certificate authority's");
    }
    return name;
  }

  /** Refuses a key file that others than its owner may read. */
  static void checkOwnerOnly(Path key) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(key);
      for (PosixFilePermission p : perms) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          throw AccrException.failed("%s: a private key must be readable by its owner only "
              + "(chmod 600 %s)", key, key);
        }
      }
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: nothing to check.
    } catch (IOException e) {
      throw AccrException.failed("cannot read %s: %s", key, e.getMessage());
    }
  }
}
