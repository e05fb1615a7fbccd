package dev.accr.engine;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.plugin.PluginHost;
import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkFileBytes;
import dev.accr.image.Compression;
import dev.accr.image.EntryImageCodec;
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
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import dev.accr.proto.PstreeEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The JSON form of one image file, and back. The form is an object
 * {@code {file, kind, version, id, entries}} (with {@code boundTo}, the name its header
 * names, when the file was renamed) whose entries are protobuf's JSON mapping of the
 * file's messages; chunks of bulk-data files carry their stored bytes when asked. Encoding
 * that JSON gives back the identical file. Derived values (chunk offsets, stored lengths and
 * checksums, the footer) are recomputed, never taken from the JSON.
 */
public final class ImageJson {
  private ImageJson() {}

  /** A file encoded from JSON: the name it had and its bytes. */
  public record Encoded(String fileName, byte[] bytes) {}

  /**
   * Decodes a file into its JSON form. The text is composed here rather than through a
   * {@code Struct}, whose numbers are doubles: a uint32 would print as {@code 1000.0}.
   */
  public static String of(Path file, boolean payloads, PluginHost plugins) throws IOException {
    ImageDecoder.Decoded d = ImageDecoder.decode(file, payloads, plugins);
    String name = file.getFileName().toString();
    String bound = d.header().boundName();
    List<String> entries = new ArrayList<>();
    for (Message m : d.entries()) {
      entries.add(JsonOutput.print(m));
    }
    return "{\n"
        + "  \"file\": " + string(name) + ",\n"
        + (bound == null || bound.equals(name) ? ""
            : "  \"boundTo\": " + string(bound) + ",\n")
        + "  \"kind\": " + string(d.header().kind().formatName()) + ",\n"
        + "  \"version\": " + d.header().version() + ",\n"
        + "  \"id\": " + string(d.header().id().toString()) + ",\n"
        + "  \"entries\": " + array(entries).indent(2).strip() + "\n"
        + "}";
  }

  /** JSON texts as one array, laid out as protobuf's printer lays out a list of messages. */
  public static String array(List<String> jsonTexts) {
    return "[" + String.join(", ", jsonTexts) + "]";
  }

  /**
   * The longest string the JSON of a file may hold: the base64 of the largest chunk, with
   * room to spare. Longer ones are refused before the JSON is parsed.
   */
  public static final int MAX_STRING_CHARS = 24 << 20;

  /** Encodes the JSON form of a file (read from {@code source}) into the file's bytes. */
  public static Encoded encode(String json, String source, PluginHost plugins) {
    checkStringLengths(json, source);
    Struct.Builder root = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(json, root);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new CorruptImageException(source, "not JSON of an image file: " + e.getMessage());
    }
    Fields f = new Fields(root.build(), source);
    String fileName = f.string("file");
    Value boundTo = root.getFieldsMap().get("boundTo");
    String header = boundTo != null ? f.string("boundTo") : fileName;
    ImageKind kind = kindOf(f.string("kind"), source);
    double version = f.get("version", Value.KindCase.NUMBER_VALUE).getNumberValue();
    if (version != ImageKind.VERSION_CURRENT) {
      throw new AccrException(AccrException.INCOMPATIBLE, String.format(
          "version: actual=%s expected=%d (accr writes only the current format version) (%s)",
          version, ImageKind.VERSION_CURRENT, source));
    }
    CheckpointId id = idOf(f.string("id"), source);
    List<Value> entries = f.get("entries", Value.KindCase.LIST_VALUE).getListValue()
        .getValuesList();
    if (kind.body() == ImageKind.Body.CHUNKS) {
      return new Encoded(fileName, ChunkFileBytes.encode(kind, ImageKind.VERSION_CURRENT, id,
          header, chunks(entries, source), source));
    }
    List<ByteString> raw = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      raw.add(entry(kind, fileName, i, entries.get(i), source, plugins));
    }
    return new Encoded(fileName, EntryImageCodec.encodeRaw(kind, ImageKind.VERSION_CURRENT, id,
        header, raw));
  }

  /** Refuses a string literal longer than {@link #MAX_STRING_CHARS}, at its offset. */
  static void checkStringLengths(String json, String source) {
    int start = -1;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (start < 0) {
        if (c == '"') {
          start = i;
        }
      } else if (c == '\\') {
        i++;
      } else if (c == '"') {
        start = -1;
      } else if (i - start > MAX_STRING_CHARS) {
        throw new CorruptImageException(source, "string at offset " + start
            + ": longer than " + MAX_STRING_CHARS + " characters");
      }
    }
  }

  private static ByteString entry(ImageKind kind, String fileName, int index, Value value,
      String source, PluginHost plugins) {
    Message.Builder builder = switch (kind) {
      case INVENTORY -> InventoryEntry.newBuilder();
      case PSTREE -> PstreeEntry.newBuilder();
      case CORE -> CoreEntry.newBuilder();
      case MM -> MmEntry.newBuilder();
      case FILES -> FileEntry.newBuilder();
      case PIPES -> dev.accr.proto.PipeEntry.newBuilder();
      case SHMEM -> dev.accr.proto.ShmemEntry.newBuilder();
      case STATS_DUMP -> DumpStatsEntry.newBuilder();
      case STATS_RESTORE -> RestoreStatsEntry.newBuilder();
      case PAGEMAP -> index == 0 ? PagemapHead.newBuilder() : PageChunkEntry.newBuilder();
      case PLUGIN_PAGEMAP -> index == 0 ? PluginPagemapHead.newBuilder()
          : PluginChunkEntry.newBuilder();
      case PLUGIN -> {
        Descriptors.Descriptor type = ImageDecoder.pluginEntryType(fileName, plugins);
        yield type == null ? BytesValue.newBuilder() : DynamicMessage.newBuilder(type);
      }
      case PAGES, PLUGIN_PAGES -> throw new IllegalStateException("bulk kinds have chunks");
    };
    merge(value, builder, "entry " + index, source);
    // Entries of a plugin that is not installed were shown as their bytes.
    return builder instanceof BytesValue.Builder b ? b.getValue() : builder.build().toByteString();
  }

  private static List<ChunkFileBytes.StoredChunk> chunks(List<Value> entries, String source) {
    List<ChunkFileBytes.StoredChunk> out = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      PageChunkRecord.Builder r = PageChunkRecord.newBuilder();
      merge(entries.get(i), r, "chunk " + i, source);
      if (r.getPayload().isEmpty()) {
        throw new CorruptImageException(source, "chunk " + i + " has no payload: decode the"
            + " file with 'accr show FILE --json' (without --no-payload)");
      }
      Compression.Codec codec = switch (r.getCodec()) {
        case "none" -> Compression.Codec.NONE;
        case "zstd" -> Compression.Codec.ZSTD;
        default -> throw new CorruptImageException(source, "chunk " + i + ": codec actual='"
            + r.getCodec() + "' expected=none|zstd");
      };
      out.add(new ChunkFileBytes.StoredChunk(codec, r.getRawLength(),
          r.getPayload().toByteArray()));
    }
    return out;
  }

  private static void merge(Value value, Message.Builder builder, String what, String source) {
    try {
      JsonFormat.parser().merge(JsonFormat.printer().print(value), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new CorruptImageException(source, what + " is not a "
          + builder.getDescriptorForType().getName() + ": " + e.getMessage());
    }
  }

  private static ImageKind kindOf(String formatName, String source) {
    for (ImageKind kind : ImageKind.values()) {
      if (kind.formatName().equals(formatName)) {
        return kind;
      }
    }
    throw new CorruptImageException(source, "kind: unknown image kind '" + formatName + "'");
  }

  private static CheckpointId idOf(String hex, String source) {
    try {
      return CheckpointId.of(HexFormat.of().parseHex(hex));
    } catch (IllegalArgumentException e) {
      throw new CorruptImageException(source, "id: expected " + CheckpointId.LENGTH * 2
          + " hex digits, got '" + hex + "'");
    }
  }

  /** {@code s} as a JSON string literal. */
  private static String string(String s) {
    return JsonOutput.print(Value.newBuilder().setStringValue(s));
  }

  /** Required members of the top-level object, with one-line errors naming the member. */
  private record Fields(Struct struct, String source) {
    Value get(String name, Value.KindCase kind) {
      Value v = struct.getFieldsMap().get(name);
      if (v == null || v.getKindCase() != kind) {
        throw new CorruptImageException(source, name + ": missing or not a "
            + kind.name().toLowerCase().replace("_value", ""));
      }
      return v;
    }

    String string(String name) {
      return get(name, Value.KindCase.STRING_VALUE).getStringValue();
    }
  }
}
