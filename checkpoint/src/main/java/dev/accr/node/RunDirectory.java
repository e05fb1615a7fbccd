package dev.accr.node;

import dev.accr.api.AccrException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Where nodes keep their sockets and logs: {@code $ACCR_RUN_DIR}, else
 * {@code $XDG_RUNTIME_DIR/accr}, else {@code /tmp/accr-$UID}.
 */
public record RunDirectory(Path path) {

  public static RunDirectory fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  static RunDirectory fromEnvironment(Map<String, String> env) {
    String explicit = env.get("ACCR_RUN_DIR");
    if (explicit != null && !explicit.isEmpty()) {
      return new RunDirectory(Path.of(explicit));
    }
    String xdg = env.get("XDG_RUNTIME_DIR");
    if (xdg != null && !xdg.isEmpty()) {
      return new RunDirectory(Path.of(xdg, "accr"));
    }
    return new RunDirectory(Path.of(System.getProperty("java.io.tmpdir"), "accr-" + uid()));
  }

  /** This process's numeric user id, or its user name where there is none. */
  static String uid() {
    try {
      return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return System.getProperty("user.name", "user");
    }
  }

  /**
   * Creates the directory (owner only) if needed, and refuses one that another user owns or
   * that group or others may enter: a node's socket there is its owner's alone.
   */
  public RunDirectory create() {
    try {
      if (!Files.isDirectory(path)) {
        Files.createDirectories(path);
        try {
          Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
          // Not a POSIX file system: permissions are the platform's default.
        }
      }
    } catch (IOException e) {
      throw AccrException.failed("cannot create run directory %s: %s", path, e.getMessage());
    }
    checkPrivate();
    return this;
  }

  /** Fails unless this user owns the directory and no one else may enter it. */
  public void checkPrivate() {
    try {
      Object owner = Files.getAttribute(path, "unix:uid");
      String me = uid();
      if (me.chars().allMatch(Character::isDigit) && !String.valueOf(owner).equals(me)) {
        throw AccrException.failed("run directory %s belongs to another user (uid %s)", path,
            owner);
      }
      String perms = PosixFilePermissions.toString(
          Files.getPosixFilePermissions(path));
      if (!perms.endsWith("------")) {
        throw AccrException.failed("run directory %s may be entered by others (%s): chmod 700 %s",
            path, perms, path);
      }
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // Not a POSIX file system: nothing to check.
    } catch (IOException e) {
      throw AccrException.failed("cannot check run directory %s: %s", path, e.getMessage());
    }
  }

  public Path socket(String node) {
    return path.resolve(node + ".sock");
  }

  public Path log(String node) {
    return path.resolve(node + ".log");
  }

  /**
   * The file in which a node listening on TCP names the address it bound, as
   * {@code HOST:PORT} on one line ({@code --listen HOST:0} binds any free port).
   */
  public Path tcpAddress(String node) {
    return path.resolve(node + ".tcp");
  }

  /** The address a node says it bound on TCP ({@link #tcpAddress}), or null. */
  public String readTcpAddress(String node) {
    try {
      return Files.readString(tcpAddress(node)).strip();
    } catch (IOException e) {
      return null;
    }
  }

  /** Checks a node name: it becomes a file name. */
  public static String checkName(String name) {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw AccrException.usage("node name '%s': use letters, digits, '.', '_' and '-'", name);
    }
    return name;
  }
}
