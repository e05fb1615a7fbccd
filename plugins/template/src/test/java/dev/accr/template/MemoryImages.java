package dev.accr.template;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.api.BulkReader;
import dev.accr.api.BulkWriter;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginImages;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Entries files kept in memory, serialized as the host would: enough for a plugin's reports. */
final class MemoryImages implements PluginImages {
  private final Map<String, Map<Long, List<byte[]>>> files = new TreeMap<>();

  @Override
  public void writeEntries(String what, long id, List<? extends MessageLite> entries) {
    files.computeIfAbsent(what, w -> new TreeMap<>()).put(id,
        entries.stream().map(MessageLite::toByteArray).toList());
  }

  @Override
  public <T extends MessageLite> List<T> readEntries(String what, long id, Parser<T> parser) {
    if (!hasEntries(what, id)) {
      throw new CorruptImageException(what + "-" + id, "missing file");
    }
    List<T> out = new ArrayList<>();
    for (byte[] b : files.get(what).get(id)) {
      try {
        out.add(parser.parseFrom(b));
      } catch (InvalidProtocolBufferException e) {
        throw new CorruptImageException(what + "-" + id, e.getMessage());
      }
    }
    return out;
  }

  @Override
  public boolean hasEntries(String what, long id) {
    return files.getOrDefault(what, Map.of()).containsKey(id);
  }

  @Override
  public List<Long> entryIds(String what) {
    return List.copyOf(files.getOrDefault(what, Map.of()).keySet());
  }

  @Override
  public BulkWriter createBulk(String what, long id) {
    throw new UnsupportedOperationException("the template writes no bulk data");
  }

  @Override
  public BulkReader openBulk(String what, long id) {
    throw new UnsupportedOperationException("the template writes no bulk data");
  }

  @Override
  public int parallelism() {
    return 1;
  }
}
