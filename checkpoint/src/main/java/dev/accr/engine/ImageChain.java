package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
import dev.accr.image.CheckpointId;
import dev.accr.image.ImageKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * An image set and its parents, newest first, each read and cross-checked ({@link ImageSet})
 * and each link verified: the parent is where the child says (its path taken relative to the
 * child's directory, as CRIU takes {@code --prev-images-dir}), has the checkpoint id the child
 * recorded, is of the same process, and no set appears twice. A link that breaks is exit code
 * 3 with one line naming the child's inventory and the parent path.
 */
public final class ImageChain {
  private final List<ImageSet> links;

  private ImageChain(List<ImageSet> links) {
    this.links = List.copyOf(links);
  }

  /** The chain that ends with the set in {@code dir}, every path allowed. */
  public static ImageChain read(Path dir) throws IOException {
    return read(dir, UnaryOperator.identity());
  }

  /**
   * The chain that ends with the set in {@code dir}; {@code confine} maps each parent
   * directory to the one to read, or throws when the caller may not name it.
   */
  public static ImageChain read(Path dir, UnaryOperator<Path> confine) throws IOException {
    return read(dir, confine, ImageSet::read);
  }

  /**
   * The chain that ends with the set in {@code dir}, as a dump that extends it needs it: each
   * link read by {@link ImageSet#readLink} (identity, files, shared memory) and verified as by
   * {@link #read}; the processes' images are checked when the chain is read to restore.
   */
  public static ImageChain readLinks(Path dir, UnaryOperator<Path> confine) throws IOException {
    return read(dir, confine, ImageSet::readLink);
  }

  /** Reads one set of a chain. */
  @FunctionalInterface
  private interface SetReader {
    ImageSet read(Path dir) throws IOException;
  }

  private static ImageChain read(Path dir, UnaryOperator<Path> confine, SetReader reader)
      throws IOException {
    List<ImageSet> links = new ArrayList<>();
    ImageSet set = reader.read(dir);
    Set<CheckpointId> seen = new HashSet<>();
    seen.add(set.id());
    links.add(set);
    while (set.hasParent()) {
      ImageSet parent = parentOf(set, confine, reader);
      if (!seen.add(parent.id())) {
        throw broken(set, "is a cycle: " + parent.dir() + " is already in the chain");
      }
      links.add(parent);
      set = parent;
    }
    return new ImageChain(links);
  }

  private static ImageSet parentOf(ImageSet child, UnaryOperator<Path> confine,
      SetReader reader) throws IOException {
    Path dir = confine.apply(parentDir(child.dir(), child.inventory().getParentPath()));
    if (!Files.isDirectory(dir)) {
      throw broken(child, "is missing (" + dir + " is not a directory)");
    }
    ImageSet parent;
    try {
      parent = reader.read(dir);
    } catch (CorruptImageException e) {
      throw new CorruptImageException(inventoryOf(child), "parent "
          + Untrusted.quote(child.inventory().getParentPath()) + " is unreadable: "
          + e.getMessage(), e);
    }
    if (!parent.id().equals(child.parentId())) {
      throw broken(child, "has checkpoint id " + parent.id() + ", expected "
          + child.parentId() + " (another dump, or another chain)");
    }
    if (parent.inventory().getRootPid() != child.inventory().getRootPid()) {
      throw broken(child, "is of process " + parent.inventory().getRootPid() + ", expected "
          + child.inventory().getRootPid());
    }
    return parent;
  }

  /** The directory of the parent named {@code path} from the set in {@code dir}. */
  static Path parentDir(Path dir, String path) {
    return dir.toAbsolutePath().resolve(path).normalize();
  }

  /**
   * How a set written into {@code dir} names the parent at {@code parent}: relative to it, so
   * that a chain can be moved as a whole.
   */
  public static String relativeName(Path dir, Path parent) {
    Path from = dir.toAbsolutePath().normalize();
    Path to = parent.toAbsolutePath().normalize();
    if (from.equals(to)) {
      throw AccrException.usage("dump: the parent %s is the image directory itself", to);
    }
    return from.relativize(to).toString();
  }

  private static CorruptImageException broken(ImageSet child, String what) {
    return new CorruptImageException(inventoryOf(child), "parent "
        + Untrusted.quote(child.inventory().getParentPath()) + " " + what);
  }

  private static String inventoryOf(ImageSet set) {
    return set.dir().resolve(ImageKind.INVENTORY.fileName()).toString();
  }

  /** The set at the end of the chain: the one named by the user. */
  public ImageSet last() {
    return links.get(0);
  }

  /** The links, newest first; the last one has no parent. */
  public List<ImageSet> links() {
    return links;
  }

  /** Whether the chain has more than one link. */
  public boolean incremental() {
    return links.size() > 1;
  }
}
