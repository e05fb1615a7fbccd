package dev.accr.kfd;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.image.CheckpointId;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads and rewrites kfd images of a set, keeping it consistent (ids, inventory sizes). */
final class KfdImages {
  private KfdImages() {}

  static <T> List<T> read(Path dir, String name, Parser<T> parser) throws IOException {
    return read(dir, name, ImageKind.PLUGIN, parser);
  }

  static <T> List<T> read(Path dir, String name, ImageKind kind, Parser<T> parser)
      throws IOException {
    return EntryImageCodec.read(dir.resolve(name), kind, null).parseAll(parser);
  }

  /**
   * Replaces an entries file with {@code entries}, properly framed with the set's id, and
   * records its new size in the inventory: only the values inside are wrong.
   */
  static void rewrite(Path dir, String name, List<? extends MessageLite> entries)
      throws IOException {
    rewrite(dir, name, ImageKind.PLUGIN, entries);
  }

  static void rewrite(Path dir, String name, ImageKind kind, List<? extends MessageLite> entries)
      throws IOException {
    CheckpointId id = setId(dir);
    Files.delete(dir.resolve(name));
    EntryImageCodec.write(dir.resolve(name), kind, id, entries);
    recordSize(dir, name);
  }

  /** Replaces a file's bytes (already framed by the caller) and records its new size. */
  static void replace(Path dir, String name, byte[] bytes) throws IOException {
    Files.write(dir.resolve(name), bytes);
    recordSize(dir, name);
  }

  static CheckpointId setId(Path dir) throws IOException {
    return EntryImageCodec.read(dir.resolve("inventory.img"), ImageKind.INVENTORY, null)
        .header().id();
  }

  /** The name of the one file of the set matching {@code regex}. */
  static String fileMatching(Path dir, String regex) throws IOException {
    try (var s = Files.list(dir)) {
      return s.map(f -> f.getFileName().toString()).filter(n -> n.matches(regex)).sorted()
          .findFirst().orElseThrow(() -> new AssertionError("no file " + regex + " in " + dir));
    }
  }

  private static void recordSize(Path dir, String name) throws IOException {
    Path inventoryFile = dir.resolve("inventory.img");
    EntryImage inv = EntryImageCodec.read(inventoryFile, ImageKind.INVENTORY, null);
    InventoryEntry.Builder inventory = inv.single(InventoryEntry.parser()).toBuilder();
    for (int i = 0; i < inventory.getFilesCount(); i++) {
      ImageFileRef ref = inventory.getFiles(i);
      if (ref.getName().equals(name)) {
        inventory.setFiles(i, ref.toBuilder().setSize(Files.size(dir.resolve(name))));
      }
    }
    Files.delete(inventoryFile);
    EntryImageCodec.write(inventoryFile, ImageKind.INVENTORY, inv.header().id(),
        List.of(inventory.build()));
  }
}
