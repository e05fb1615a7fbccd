package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The directory a node's remote clients are confined to: every path they name resolves inside
 * it. A relative path is taken relative to the root (or to a directory already inside it); an
 * absolute path must lie inside it; {@code ..} is applied to the path's text, and may not climb
 * above the root; a symlink anywhere on the way (the deepest existing ancestor is resolved to its
 * real path, which covers the final component when it exists) must lead back inside. A path
 * that leaves the root is a usage error naming the path as given and, like every message for
 * remote clients, no absolute path of the node ({@link #hide}).
 *
 * <p>The result is a real path (no symlinks among the components that exist, no {@code ..}),
 * and callers use that path from then on, never the text the client sent. What remains between
 * the check and the use: whoever can write inside the root can swap a checked directory for a
 * symlink before the node opens a file beneath it. Remote clients cannot make symlinks through
 * the node's API, and the root is the node's user's and writable by no one else (checked when
 * it is opened), so that is only the node's own user.
 */
public final class ImageRoot {
  private final Path configured;
  private final Path real;

  private ImageRoot(Path configured, Path real) {
    this.configured = configured;
    this.real = real;
  }

  /**
   * The root at {@code dir}, created owner-only (0700) with its missing parents if needed. An
   * existing root must be this user's and not writable by group or others: whoever else may
   * write in it could swap a checked directory for a symlink out of it.
   */
  public static ImageRoot open(Path dir) {
    Path absolute = dir.toAbsolutePath().normalize();
    try {
      if (!Files.isDirectory(absolute)) {
        Files.createDirectories(absolute);
        try {
          Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
          // Not a POSIX file system: permissions are the platform's default.
        }
      }
      checkOwnedAndNotShared(absolute);
      return new ImageRoot(absolute, absolute.toRealPath());
    } catch (IOException e) {
      throw AccrException.failed("cannot create image root %s: %s", absolute, e.getMessage());
    }
  }

  private static void checkOwnedAndNotShared(Path dir) throws IOException {
    try {
      Object owner = Files.getAttribute(dir, "unix:uid");
      String me = RunDirectory.uid();
      if (me.chars().allMatch(Character::isDigit) && !String.valueOf(owner).equals(me)) {
        throw AccrException.failed("image root %s belongs to another user (uid %s)", dir, owner);
      }
      String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(dir));
      if (perms.charAt(4) == 'w' || perms.charAt(7) == 'w') {
        throw AccrException.failed("image root %s may be written by others (%s): chmod go-w %s",
            dir, perms, dir);
      }
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // Not a POSIX file system: nothing to check.
    }
  }

  /** The default root of node {@code name}: {@code <run directory>/images/<name>}. */
  public static Path defaultFor(RunDirectory run, String name) {
    return run.path().resolve("images").resolve(RunDirectory.checkName(name));
  }

  /** The root's real path. */
  public Path path() {
    return real;
  }

  /** Resolves {@code requested} inside the root; relative paths are taken from the root. */
  public Path resolve(String requested) {
    return resolve(real, requested);
  }

  /**
   * Resolves {@code requested} inside the root; a relative path is taken from {@code base}, a
   * path {@link #resolve resolved} inside the root before.
   */
  public Path resolve(Path base, String requested) {
    Path asked;
    try {
      asked = Path.of(requested);
    } catch (InvalidPathException e) {
      throw AccrException.usage("path %s: not a valid path", Untrusted.quote(requested));
    }
    Path candidate = (asked.isAbsolute() ? asked : base.resolve(asked)).normalize();
    if (!candidate.startsWith(real) && candidate.startsWith(configured)) {
      candidate = real.resolve(configured.relativize(candidate)); // the root by another name
    }
    if (!candidate.startsWith(real)) {
      throw outside(requested, null);
    }
    Path existing = candidate;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent(); // stops at the root, unless it was removed
    }
    if (existing == null) {
      throw AccrException.failed("the node's image root does not exist");
    }
    Path existingReal;
    try {
      existingReal = existing.toRealPath();
    } catch (IOException e) {
      throw AccrException.usage("path %s: %s cannot be resolved inside the image root (%s)",
          Untrusted.quote(requested), show(existing), e.getClass().getSimpleName());
    }
    if (!existingReal.startsWith(real)) {
      throw outside(requested, show(existing) + " is a link out of it");
    }
    return existingReal.resolve(existing.relativize(candidate));
  }

  /** How a resolved path is shown to a remote client: relative to the root ({@code .} for it). */
  public String show(Path resolved) {
    String relative = real.relativize(resolved).toString();
    return relative.isEmpty() ? "." : relative;
  }

  /**
   * {@code message} with the root's absolute path, under either of its names, replaced by
   * paths relative to it: what a remote client may see of the node's files.
   */
  public String hide(String message) {
    String hidden = message;
    for (Path p : List.of(real, configured)) {
      String abs = p.toString();
      hidden = hidden.replace(abs + "/", "").replace(abs, ".");
    }
    return hidden;
  }

  private AccrException outside(String requested, String why) {
    return AccrException.usage("path %s is outside the image root%s", Untrusted.quote(requested),
        why == null ? "" : " (" + why + ")");
  }

  @Override
  public String toString() {
    return real.toString();
  }
}
