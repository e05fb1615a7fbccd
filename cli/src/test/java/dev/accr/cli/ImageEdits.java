package dev.accr.cli;

import com.google.protobuf.ByteString;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Edits of image sets as a hostile tool would make them: contents changed, framing and
 * checksums recomputed, the inventory's record of sizes kept right, so that only what the
 * contents mean can catch them.
 */
final class ImageEdits {
  private ImageEdits() {}

  /** A private copy of a set (checked-in sets are never touched). */
  static Path copy(Path set, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(set)) {
      for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".img")).toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return to;
  }

  /** Rewrites the entries of an entry file, re-framed with its own header, and the inventory. */
  static void rewrite(Path file, UnaryOperator<List<ByteString>> change) throws IOException {
    EntryImage image = EntryImageCodec.readAlone(file);
    List<ByteString> entries = change.apply(image.entries());
    Files.write(file, EntryImageCodec.encodeRaw(image.header().kind(), image.header().version(),
        image.header().id(), image.header().boundName(), entries));
    if (!file.getFileName().toString().equals(ImageKind.INVENTORY.fileName())) {
      resizeInventory(file.getParent());
    }
  }

  /**
   * Makes the process of core image {@code core} run its remaining steps without the pause
   * between them (a field of its core image, not part of its digest): a restored copy then
   * need not outlive any command.
   */
  static void withoutStepDelay(Path core) throws IOException {
    rewrite(core, entries -> {
      try {
        return List.of(CoreEntry.parseFrom(entries.getFirst()).toBuilder().setStepDelayMs(0)
            .build().toByteString());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** Copies {@code from} over {@code to} in one set and keeps the inventory's sizes right. */
  static void copyOver(Path from, Path to) throws IOException {
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    resizeInventory(to.getParent());
  }

  /** Records the present size of every file the inventory lists. */
  static void resizeInventory(Path dir) throws IOException {
    rewrite(dir.resolve(ImageKind.INVENTORY.fileName()), entries -> {
      try {
        InventoryEntry.Builder inv = InventoryEntry.parseFrom(entries.getFirst()).toBuilder();
        for (int i = 0; i < inv.getFilesCount(); i++) {
          ImageFileRef ref = inv.getFiles(i);
          Path f = dir.resolve(ref.getName());
          if (Files.isRegularFile(f)) {
            inv.setFiles(i, ref.toBuilder().setSize(Files.size(f)));
          }
        }
        return List.of(inv.build().toByteString());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }
}
