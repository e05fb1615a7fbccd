package dev.accr.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.accr.api.AccrPlugin;
import dev.accr.api.CorruptImageException;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageFraming;
import dev.accr.image.ImageKind;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.RestoreStatsEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageChunkRecord;
import dev.accr.proto.PagemapHead;
import dev.accr.proto.PstreeEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes any single image file into protobuf messages for display: the entries of metadata
 * files, and a description of each chunk of bulk-data files. Every checksum is verified.
 */
public final class ImageDecoder {
  private ImageDecoder() {}

  /** A decoded file: its header and its entries as messages. */
  public record Decoded(ImageFraming.Header header, List<Message> entries) {}

  /** Decodes a file; {@code plugins} give the message types of their files' entries. */
  public static Decoded decode(Path file, PluginHost plugins) throws IOException {
    return decode(file, false, plugins);
  }

  /**
   * Decodes a file; with {@code payloads}, each chunk of a bulk-data file carries its stored
   * bytes, so that the decoded form can be encoded back into the same file.
   */
  public static Decoded decode(Path file, boolean payloads, PluginHost plugins)
      throws IOException {
    try (ChunkFileReader probe = tryChunks(file)) {
      if (probe != null) {
        return new Decoded(probe.header(), chunks(probe, payloads));
      }
    }
    EntryImage image = EntryImageCodec.readAlone(file);
    return new Decoded(image.header(), entries(image, file.getFileName().toString(), plugins));
  }

  private static ChunkFileReader tryChunks(Path file) throws IOException {
    String name = file.getFileName().toString();
    ImageKind kind = ImageKind.ofFileName(name);
    return kind == ImageKind.PAGES || kind == ImageKind.PLUGIN_PAGES
        ? ChunkFileReader.openAlone(file) : null;
  }

  private static List<Message> chunks(ChunkFileReader reader, boolean payloads)
      throws IOException {
    List<Message> out = new ArrayList<>();
    ByteBuffer payload = ByteBuffer.allocateDirect(ChunkFileReader.MAX_RAW_LENGTH);
    for (ChunkFileReader.Chunk c; (c = reader.next(payload)) != null; ) {
      PageChunkRecord.Builder record = PageChunkRecord.newBuilder().setOffset(c.offset())
          .setCodec(c.codec().name().toLowerCase()).setRawLength(c.rawLength())
          .setStoredLength(c.storedLength()).setCrc32C(c.crc());
      if (payloads) {
        record.setPayload(ByteString.copyFrom(payload));
      }
      out.add(record.build());
    }
    return out;
  }

  /**
   * A plugin's entries, decoded with the message type the plugin declares for them; as raw
   * bytes when the plugin is not installed or does not say.
   */
  private static List<Message> pluginEntries(EntryImage image, String fileName,
      PluginHost plugins) {
    Descriptors.Descriptor type = pluginEntryType(fileName, plugins);
    List<Message> out = new ArrayList<>();
    for (ByteString entry : image.entries()) {
      if (type == null) {
        out.add(BytesValue.of(entry));
        continue;
      }
      try {
        out.add(DynamicMessage.parseFrom(type, entry));
      } catch (InvalidProtocolBufferException e) {
        throw new CorruptImageException(image.file(), "entry does not parse as "
            + type.getFullName() + ": " + e.getMessage());
      }
    }
    return out;
  }

  /** The message type of a plugin file's entries, or null when unknown (shown as bytes). */
  static Descriptors.Descriptor pluginEntryType(String fileName, PluginHost plugins) {
    ImageKind.PluginFileName name = ImageKind.parsePluginFileName(fileName);
    AccrPlugin plugin = name == null ? null : plugins.plugin(name.plugin());
    return plugin == null ? null : plugin.imageEntryType(name.what());
  }

  private static List<Message> entries(EntryImage image, String fileName,
      PluginHost plugins) {
    List<Message> out = new ArrayList<>();
    switch (image.header().kind()) {
      case INVENTORY -> out.addAll(image.parseAll(InventoryEntry.parser()));
      case PSTREE -> out.addAll(image.parseAll(PstreeEntry.parser()));
      case CORE -> out.addAll(image.parseAll(CoreEntry.parser()));
      case MM -> out.addAll(image.parseAll(MmEntry.parser()));
      case FILES -> out.addAll(image.parseAll(FileEntry.parser()));
      case PIPES -> out.addAll(image.parseAll(dev.accr.proto.PipeEntry.parser()));
      case SHMEM -> out.addAll(image.parseAll(dev.accr.proto.ShmemEntry.parser()));
      case STATS_DUMP -> out.addAll(image.parseAll(DumpStatsEntry.parser()));
      case STATS_RESTORE -> out.addAll(image.parseAll(RestoreStatsEntry.parser()));
      case PAGEMAP -> {
        out.add(image.parse(PagemapHead.parser(), 0));
        out.addAll(image.parseRange(PageChunkEntry.parser(), 1, image.entries().size()));
      }
      case PLUGIN_PAGEMAP -> {
        out.add(image.parse(PluginPagemapHead.parser(), 0));
        out.addAll(image.parseRange(PluginChunkEntry.parser(), 1, image.entries().size()));
      }
      case PLUGIN -> out.addAll(pluginEntries(image, fileName, plugins));
      case PAGES, PLUGIN_PAGES -> throw new IllegalStateException("bulk files are decoded as chunks");
    }
    return out;
  }
}
