package dev.accr.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The temporary directories that image sets are written into ({@code .<name>.partial-<16 hex>}
 * next to the target), and the removal of those left behind by dumps that died. A directory is
 * removed only when all of these hold: its name has exactly that form, it is a real directory
 * of this user that neither group nor others may write (writers create it 0700), it holds the
 * marker file that every writer creates first (naming the writing process), and that process is
 * gone, so that nothing that is not accr's, no one else's files (a marker forged in a shared
 * directory), and no dump in progress in another node, is ever touched.
 */
public final class PartialSets {
  /** The marker in every temporary directory: who writes it. */
  public static final String MARKER = ".accr-partial";
  private static final String MARKER_HEADER = "# accr: image set being written";
  private static final Pattern NAME = Pattern.compile("\\..+\\.partial-[0-9a-f]{16}");

  /** A temporary directory of a dead writer, or of a live one (then it is kept). */
  public record Leftover(Path dir, long writerPid, String writerHost, boolean writerAlive) {
    /** Who wrote it, for messages. */
    public String writer() {
      return "pid " + writerPid + " on " + writerHost;
    }
  }

  private PartialSets() {}

  /** A fresh temporary directory name for the target named {@code name}. */
  static String newName(String name) {
    return "." + name + ".partial-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  /** True when {@code fileName} has the form of a temporary directory's name. */
  public static boolean isPartialName(String fileName) {
    return NAME.matcher(fileName).matches();
  }

  /** Writes the marker naming this process into {@code dir} and syncs it. */
  static void writeMarker(Path dir) throws IOException {
    ProcessHandle self = ProcessHandle.current();
    String text = MARKER_HEADER + "\npid=" + self.pid() + "\nstart=" + startMillis(self)
        + "\nhost=" + host() + "\n";
    ImageFiles.writeAndSync(dir.resolve(MARKER), text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The temporary directories of accr in {@code parent}, with their writers; directories whose
   * name, type or marker is not accr's are not listed. A missing parent has none.
   */
  public static List<Leftover> find(Path parent) throws IOException {
    List<Leftover> found = new ArrayList<>();
    if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
      return found;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
      for (Path p : entries) {
        if (isPartialName(p.getFileName().toString()) && isOwnPrivateDirectory(p)) {
          readMarker(p).ifPresent(found::add);
        }
      }
    }
    found.sort((a, b) -> a.dir().compareTo(b.dir()));
    return found;
  }

  /**
   * Removes the temporary directories in {@code parent} whose writers are gone and returns
   * them; best effort (a directory that cannot be removed is skipped).
   */
  public static List<Leftover> removeDead(Path parent) {
    List<Leftover> removed = new ArrayList<>();
    try {
      for (Leftover l : find(parent)) {
        if (!l.writerAlive() && remove(l)) {
          removed.add(l);
        }
      }
    } catch (IOException e) {
      // An unreadable parent: nothing to clean here.
    }
    return removed;
  }

  /**
   * {@link #removeDead} in {@code root} and every directory below it, down to {@code maxDepth}
   * levels: dumps may write sets anywhere in an image root. Symbolic links are not followed,
   * and temporary directories and image sets are not descended into (a set has no
   * subdirectories of its own).
   */
  public static List<Leftover> removeDeadBelow(Path root, int maxDepth) {
    List<Leftover> removed = new ArrayList<>();
    try {
      Files.walkFileTree(root, Set.of(), maxDepth, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
          String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
          if (!dir.equals(root) && (isPartialName(name)
              || Files.exists(dir.resolve("inventory.img"), LinkOption.NOFOLLOW_LINKS))) {
            return FileVisitResult.SKIP_SUBTREE;
          }
          removed.addAll(removeDead(dir));
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
          return FileVisitResult.CONTINUE; // unreadable: nothing to clean there
        }
      });
    } catch (IOException e) {
      // An unreadable root: nothing to clean.
    }
    return removed;
  }

  /** Removes one dead writer's directory; false if it could not be removed. */
  public static boolean remove(Leftover leftover) {
    if (leftover.writerAlive()) {
      throw new IllegalArgumentException(leftover.dir() + " is still being written");
    }
    if (!isOwnPrivateDirectory(leftover.dir())) {
      return false; // changed hands since it was found
    }
    try {
      DirectoryTrees.delete(leftover.dir());
      return true;
    } catch (NoSuchFileException e) {
      return true; // removed by another cleaner meanwhile
    } catch (IOException e) {
      return false;
    }
  }

  /** A real directory (not a link) of this user that neither group nor others may write. */
  private static boolean isOwnPrivateDirectory(Path dir) {
    try {
      Map<String, Object> unix = Files.readAttributes(dir, "unix:uid,mode,isDirectory",
          LinkOption.NOFOLLOW_LINKS);
      return Boolean.TRUE.equals(unix.get("isDirectory"))
          && unix.get("uid").equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
          && ((Integer) unix.get("mode") & 0022) == 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false; // whose it is cannot be told: not touched
    }
  }

  private static Optional<Leftover> readMarker(Path dir) {
    Path marker = dir.resolve(MARKER);
    try {
      if (!Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS) || Files.size(marker) > 4096) {
        return Optional.empty();
      }
      String text = Files.readString(marker, StandardCharsets.UTF_8);
      if (!text.startsWith(MARKER_HEADER + "\n")) {
        return Optional.empty();
      }
      Properties p = new Properties();
      p.load(new java.io.StringReader(text));
      long pid = Long.parseLong(p.getProperty("pid", ""));
      long start = Long.parseLong(p.getProperty("start", ""));
      String host = p.getProperty("host", "");
      return Optional.of(new Leftover(dir, pid, host, isAlive(pid, start, host)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // not a marker accr wrote
    }
  }

  /**
   * Whether the writer may still be at work: a process of another host is taken as alive (its
   * state cannot be seen from here), a local one must have the same pid and start time.
   */
  private static boolean isAlive(long pid, long startMillis, String host) {
    if (!host.equals(host())) {
      return true;
    }
    Optional<ProcessHandle> p = ProcessHandle.of(pid);
    if (p.isEmpty() || !p.get().isAlive()) {
      return false;
    }
    long start = startMillis(p.get());
    return start < 0 || startMillis < 0 || start == startMillis;
  }

  private static long startMillis(ProcessHandle p) {
    return p.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
  }

  private static String host() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException | RuntimeException e) {
      return System.getenv().getOrDefault("HOSTNAME", "localhost");
    }
  }
}
