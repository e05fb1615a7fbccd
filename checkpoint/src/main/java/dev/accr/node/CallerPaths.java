package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import dev.accr.engine.ImageSet;
import dev.accr.proto.FileEntry;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The paths a request may name, as its {@link Caller} allows. A local caller (the node's own
 * user) names any path, as given. A remote caller's paths resolve inside the node's
 * {@link ImageRoot}, and so do the files its processes open: the working directory of
 * {@code run}, every workload argument that reads as a path (workloads take their output files
 * as arguments, e.g. counter's {@code --out}), and the working directory and files recorded in
 * an image it restores (the image's content is no more trusted than the client).
 */
abstract sealed class CallerPaths {
  static CallerPaths of(Caller caller, ImageRoot root) {
    if (!caller.remote()) {
      return new Local();
    }
    if (root == null) {
      throw AccrException.usage("node has no image root: remote clients cannot name paths");
    }
    return new Confined(root);
  }

  /** Whether paths resolve inside the node's image root (a remote caller). */
  boolean confined() {
    return this instanceof Confined;
  }

  /** An image directory ({@code -D}) to restore from. */
  abstract Path imageDir(String requested);

  /** An image directory ({@code -D}) to dump into: a set replaces it whole. */
  Path dumpDir(String requested) {
    return imageDir(requested);
  }

  /**
   * The parent set of an incremental dump into {@code dumpDir}: a relative path is taken from
   * {@code dumpDir}, as CRIU takes {@code --prev-images-dir}.
   */
  Path parentDir(Path dumpDir, String requested) {
    return parentConfinement().apply(dumpDir.toAbsolutePath().resolve(requested).normalize());
  }

  /** Maps each set of a chain to read to the path to use, or refuses it. */
  abstract UnaryOperator<Path> parentConfinement();

  /** How {@code resolved} is shown to the caller. */
  abstract String show(Path resolved);

  /**
   * How a process's argument is shown to the caller ({@code ps}): a remote caller sees paths
   * inside the root relative to it and no other absolute path of the node.
   */
  abstract String showArgument(String arg);

  /** The working directory of a new process; empty means the default. */
  abstract Path workingDir(String requested);

  /** Refuses workload arguments that name paths the caller may not. */
  abstract void checkArguments(Path cwd, List<String> args);

  /**
   * Refuses an image whose process would work in a directory, or reopen a file, that the
   * caller may not name.
   */
  abstract void checkImage(ImageSet set);

  private static final class Local extends CallerPaths {
    @Override
    Path imageDir(String requested) {
      return Path.of(requested);
    }

    @Override
    String show(Path resolved) {
      return resolved.toAbsolutePath().toString();
    }

    @Override
    String showArgument(String arg) {
      return arg;
    }

    @Override
    UnaryOperator<Path> parentConfinement() {
      return UnaryOperator.identity();
    }

    @Override
    Path workingDir(String requested) {
      return Path.of(requested.isEmpty() ? System.getProperty("user.dir") : requested);
    }

    @Override
    void checkArguments(Path cwd, List<String> args) {}

    @Override
    void checkImage(ImageSet set) {}
  }

  private static final class Confined extends CallerPaths {
    private final ImageRoot root;

    Confined(ImageRoot root) {
      this.root = root;
    }

    @Override
    Path imageDir(String requested) {
      return root.resolve(requested);
    }

    /** Not the root itself: the set would be written beside it and replace it. */
    @Override
    Path dumpDir(String requested) {
      Path dir = imageDir(requested);
      if (dir.equals(root.path())) {
        throw AccrException.usage("dump: %s is the image root itself: name a directory in it",
            Untrusted.quote(requested));
      }
      return dir;
    }

    @Override
    String show(Path resolved) {
      return root.show(resolved);
    }

    /** Parents named by a request or by an image stay inside the root too. */
    @Override
    UnaryOperator<Path> parentConfinement() {
      return p -> root.resolve(p.toString());
    }

    @Override
    String showArgument(String arg) {
      int eq = arg.indexOf('=');
      String prefix = arg.startsWith("--") && eq > 0 ? arg.substring(0, eq + 1) : "";
      String value = arg.substring(prefix.length());
      if (!value.startsWith("/")) {
        return arg;
      }
      String hidden = root.hide(value);
      return prefix + (hidden.startsWith("/") ? "(path outside the image root)" : hidden);
    }

    @Override
    Path workingDir(String requested) {
      return root.resolve(requested);
    }

    /**
     * Every argument, and the value of every {@code --name=value}, is taken as a path from
     * {@code cwd}: numbers and names stay inside, absolute paths and {@code ..} may not leave.
     * The workload opens the same text from the same directory, so what is checked is what it
     * opens (by name, later: the race {@link ImageRoot} describes applies).
     */
    @Override
    void checkArguments(Path cwd, List<String> args) {
      for (String arg : args) {
        int eq = arg.indexOf('=');
        root.resolve(cwd, arg.startsWith("--") && eq > 0 ? arg.substring(eq + 1) : arg);
      }
    }

    @Override
    void checkImage(ImageSet set) {
      Path dir = set.dir();
      for (ImageSet.ProcessImages p : set.processes().values()) {
        if (p.pstree().getZombie()) {
          continue; // created exited: it has no working directory, nor any file
        }
        String cwd = p.core().getCwd();
        check(dir, "working directory of process " + p.core().getPid(),
            cwd.isEmpty() ? System.getProperty("user.dir") : cwd);
      }
      for (FileEntry f : set.files().values()) {
        if (f.hasReg()) {
          check(dir, "file " + f.getId(), f.getReg().getPath());
        }
      }
    }

    private void check(Path dir, String what, String path) {
      try {
        root.resolve(path);
      } catch (AccrException e) {
        throw AccrException.usage("restore %s: %s: %s", root.show(dir), what, e.getMessage());
      }
    }
  }
}
