package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes an image set into a temporary directory next to the target and renames it into
 * place once every file is complete and synced, so that an interrupted dump never leaves a
 * set that looks whole and never touches an earlier one. The target must not exist or be an
 * empty directory. The temporary directory carries a marker naming the writing process, so that
 * what a killed dump leaves behind can be told from anything else and removed.
 */
public final class ImageSetWriter implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final CheckpointId id;
  /** Where the files go when the set is written on another node; null for a local set. */
  private final RemoteSet remote;
  private static final FileAttribute<?> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  /** The log a failed dump leaves in the directory it was to fill; a later dump replaces it. */
  public static final String FAILED_DUMP_LOG = "dump.log";

  private boolean committed;

  private ImageSetWriter(Path target, Path temp, CheckpointId id, RemoteSet remote) {
    this.target = target;
    this.temp = temp;
    this.id = id;
    this.remote = remote;
  }

  /**
   * A set with the checkpoint id {@code id} written into {@code remote} (another node's image
   * store), named {@code target} there; nothing of it is written on this node.
   */
  public static ImageSetWriter remote(Path target, CheckpointId id, RemoteSet remote) {
    return new ImageSetWriter(target, null, id, remote);
  }

  /** Where the files of the set are written. */
  public ImageSink sink() {
    return remote != null ? remote : ImageSink.directory(temp);
  }

  /** True when the set is written on another node. */
  public boolean isRemote() {
    return remote != null;
  }

  /**
   * Checks the target, creates the temporary directory with its marker, and removes the
   * leftovers of dead dumps next to it ({@link PartialSets}).
   */
  public static ImageSetWriter create(Path target) {
    return create(target, CheckpointId.random());
  }

  /**
   * As {@link #create(Path)}, for a set with the checkpoint id {@code id}: the same checkpoint
   * written anew (a chain folded into one set keeps the id of its last link).
   */
  public static ImageSetWriter create(Path target, CheckpointId id) {
    Path absolute = target.toAbsolutePath().normalize();
    if (absolute.getFileName() != null
        && PartialSets.isPartialName(absolute.getFileName().toString())) {
      // A complete set under such a name could be taken for a dead dump's leftover.
      throw AccrException.usage("dump: %s is named like a temporary directory (.NAME.partial-*)",
          Untrusted.quote(absolute.toString()));
    }
    if (Files.exists(absolute) && !isEmptyDirectory(absolute)) {
      // (A directory that holds only the log of a failed dump counts as empty.)
      throw AccrException.failed("dump: %s already exists and is not an empty directory", absolute);
    }
    Path parent = absolute.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw AccrException.failed("dump: parent directory of %s does not exist", absolute);
    }
    Path temp;
    try {
      temp = createTemp(parent, absolute.getFileName().toString());
    } catch (AccessDeniedException e) {
      throw AccrException.failed("dump: cannot write in %s: permission denied", parent);
    } catch (IOException e) {
      throw AccrException.failed("dump: cannot create a directory in %s: %s", parent, e.getMessage());
    }
    try {
      PartialSets.writeMarker(temp);
    } catch (IOException e) {
      deleteQuietly(temp);
      throw AccrException.failed("dump: cannot write in %s: %s", temp, e.getMessage());
    }
    PartialSets.removeDead(parent); // our own directory is marked: it stays
    return new ImageSetWriter(absolute, temp, id, null);
  }

  private static Path createTemp(Path parent, String name) throws IOException {
    while (true) {
      Path temp = parent.resolve(PartialSets.newName(name));
      try {
        return Files.createDirectory(temp, OWNER_ONLY);
      } catch (FileAlreadyExistsException e) {
        // Another writer drew the same name: draw again.
      } catch (UnsupportedOperationException e) {
        return Files.createDirectory(temp); // not a POSIX file system
      }
    }
  }

  private static boolean isEmptyDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.allMatch(f -> f.getFileName().toString().equals(FAILED_DUMP_LOG));
    } catch (IOException e) {
      return false;
    }
  }

  public CheckpointId id() {
    return id;
  }

  /**
   * The temporary directory the files are written into; for a remote set, the name of the set
   * on the other node (nothing there can be read from this node).
   */
  public Path directory() {
    return remote != null ? target : temp;
  }

  /** Where to write the file {@code name} of a local set. */
  public Path file(String name) {
    if (remote != null) {
      throw new IllegalStateException("a remote set has no local files: " + name);
    }
    return temp.resolve(name);
  }

  public Path target() {
    return target;
  }

  /**
   * Writes {@code inventory.img} listing every file already written, syncs the directory and
   * renames it into place.
   */
  public void commit(InventoryEntry.Builder inventory) throws IOException {
    if (remote != null) {
      remote.commit(inventory.clearFiles().setFormatVersion(ImageKind.VERSION_CURRENT));
      committed = true;
      return;
    }
    List<ImageFileRef> refs = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(temp)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.equals(PartialSets.MARKER)) {
          continue;
        }
        ImageKind kind = ImageKind.ofFileName(name);
        refs.add(ImageFileRef.newBuilder().setName(name)
            .setKind(kind == null ? "" : kind.formatName()).setSize(Files.size(f)).build());
      }
    }
    refs.sort(Comparator.comparing(ImageFileRef::getName));
    inventory.clearFiles().addAllFiles(refs).setFormatVersion(ImageKind.VERSION_CURRENT);
    EntryImageCodec.write(file(ImageKind.INVENTORY.fileName()), ImageKind.INVENTORY, id,
        List.of(inventory.build()));
    FaultInjection.step("sync-dir:" + temp.getFileName());
    syncDirectory(temp);
    if (Files.exists(target)) {
      Files.deleteIfExists(target.resolve(FAILED_DUMP_LOG));
      Files.delete(target); // an empty directory, checked when the dump started
    }
    FaultInjection.step("rename:" + temp.getFileName() + "->" + target.getFileName());
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileSystemException e) {
      throw AccrException.failed("dump: cannot rename %s to %s: %s", temp, target, e.getReason());
    }
    committed = true;
    // The set is complete; a marker that outlives a crash here is an unlisted file, ignored.
    FaultInjection.step("remove-marker:" + target.getFileName());
    Files.deleteIfExists(target.resolve(PartialSets.MARKER));
    FaultInjection.step("sync-dir:" + target.getParent());
    syncDirectory(target);
    syncDirectory(target.getParent());
  }

  private static void syncDirectory(Path dir) {
    // Forcing a directory makes the names in it durable; not every file system allows it.
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // Best effort: the files themselves are already synced.
    }
  }

  /** Removes the temporary directory unless the set was committed. */
  @Override
  public void close() {
    if (remote != null) {
      remote.close(); // a committed remote set stays
      return;
    }
    if (committed) {
      return;
    }
    deleteQuietly(temp);
  }

  private static void deleteQuietly(Path temp) {
    try {
      DirectoryTrees.delete(temp);
    } catch (IOException ignored) {
      // Leftovers of a failed dump are marked: the next dump or node start, or gc, removes them.
    }
  }
}
