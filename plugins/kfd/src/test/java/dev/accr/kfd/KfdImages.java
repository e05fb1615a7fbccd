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
    return EntryImageCodec.read(dir.resolve(name), ImageKind.PLUGIN, null).parseAll(parser);
  }

  /**
   * Replaces an entries file with {@code entries}, properly framed with the set's id, and
   * records its new size in the inventory: only the values inside are wrong.
   */
  static void rewrite(Path dir, String name, List<? extends MessageLite> entries)
      throws IOException {
    Path inventoryFile = dir.resolve("inventory.img");
    EntryImage inv = EntryImageCodec.read(inventoryFile, ImageKind.INVENTORY, null);
    CheckpointId id = inv.header().id();
    Files.delete(dir.resolve(name));
    EntryImageCodec.write(dir.resolve(name), ImageKind.PLUGIN, id, entries);
    InventoryEntry.Builder inventory = inv.single(InventoryEntry.parser()).toBuilder();
    for (int i = 0; i < inventory.getFilesCount(); i++) {
      ImageFileRef ref = inventory.getFiles(i);
      if (ref.getName().equals(name)) {
        inventory.setFiles(i, ref.toBuilder().setSize(Files.size(dir.resolve(name))));
      }
    }
    Files.delete(inventoryFile);
    EntryImageCodec.write(inventoryFile, ImageKind.INVENTORY, id, List.of(inventory.build()));
  }
}
