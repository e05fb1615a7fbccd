package dev.accr.testkit;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Hostile but correctly framed image sets for tests: a copy of a set with the entries of one
 * file changed, re-framed with the set's id and its new size recorded in the inventory, so
 * only the values inside are wrong.
 */
public final class ImageEdits {
  private ImageEdits() {}

  /** A copy of every file of {@code source} in a new directory {@code to}. */
  public static Path copy(Path source, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(source)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
    return to;
  }

  /** The name of the one file of {@code dir} matching {@code regex}. */
  public static String fileMatching(Path dir, String regex) throws IOException {
    try (var s = Files.list(dir)) {
      return s.map(f -> f.getFileName().toString()).filter(n -> n.matches(regex)).sorted()
          .findFirst().orElseThrow(() -> new AssertionError("no file " + regex + " in " + dir));
    }
  }

  /** Changes every entry of file {@code name} of {@code dir} in place, keeping the framing. */
  public static <T extends MessageLite> void edit(Path dir, String name, ImageKind kind,
      Parser<T> parser, UnaryOperator<T> change) throws IOException {
    editAll(dir, name, kind, parser, all -> all.stream().map(change).toList());
  }

  /** Replaces the entries of file {@code name} of {@code dir} (to add or drop some). */
  public static <T extends MessageLite> void editAll(Path dir, String name, ImageKind kind,
      Parser<T> parser, UnaryOperator<List<T>> change) throws IOException {
    Path file = dir.resolve(name);
    EntryImage image = EntryImageCodec.read(file, kind, null);
    write(file, kind, image, change.apply(image.parseAll(parser)));
    Path inventoryFile = dir.resolve("inventory.img");
    EntryImage inv = EntryImageCodec.read(inventoryFile, ImageKind.INVENTORY, null);
    InventoryEntry.Builder inventory = inv.single(InventoryEntry.parser()).toBuilder();
    for (int i = 0; i < inventory.getFilesCount(); i++) {
      if (inventory.getFiles(i).getName().equals(name)) {
        inventory.setFiles(i, inventory.getFiles(i).toBuilder().setSize(Files.size(file)));
      }
    }
    write(inventoryFile, ImageKind.INVENTORY, inv, List.of(inventory.build()));
  }

  private static void write(Path file, ImageKind kind, EntryImage image,
      List<? extends MessageLite> entries) throws IOException {
    Files.write(file, EntryImageCodec.encode(kind, ImageKind.VERSION_CURRENT, image.header().id(),
        file.getFileName().toString(), entries));
  }
}
