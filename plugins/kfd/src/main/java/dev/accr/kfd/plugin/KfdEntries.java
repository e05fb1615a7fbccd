package dev.accr.kfd.plugin;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One process's kfd entries files in a set, each read, checked and parsed at most once: a
 * restore's device mapping, the binding of its GPUs and the reopening of {@code /dev/kfd} all
 * read some of the same files, and share them through the operation ({@link #of}).
 */
final class KfdEntries {
  private final PluginImages images;
  private final long pid;
  private final Map<String, List<?>> parsed = new ConcurrentHashMap<>();

  private KfdEntries(PluginImages images, long pid) {
    this.images = images;
    this.pid = pid;
  }

  /** Process {@code pid}'s entries in {@code images}, read when asked for, kept here. */
  static KfdEntries reading(PluginImages images, long pid) {
    return new KfdEntries(images, pid);
  }

  /** Process {@code pid}'s entries in the set of the operation of {@code ctx}, shared by it. */
  static KfdEntries of(PluginContext ctx, long pid) {
    ProcessStates states = ProcessStates.of(ctx);
    synchronized (states) {
      KfdEntries e = states.get(KfdEntries.class, (int) pid);
      if (e == null) {
        e = new KfdEntries(ctx.images(), pid);
        states.put((int) pid, e);
      }
      return e;
    }
  }

  List<KfdDeviceEntry> devices() {
    return read("devices", KfdDeviceEntry.parser());
  }

  List<KfdBoEntry> bos() {
    return read("bos", KfdBoEntry.parser());
  }

  List<KfdSvmRangeEntry> svmRanges() {
    return read("svm", KfdSvmRangeEntry.parser());
  }

  List<KfdQueueEntry> queues() {
    return read("queues", KfdQueueEntry.parser());
  }

  List<KfdEventEntry> events() {
    return read("events", KfdEventEntry.parser());
  }

  /**
   * The process entry, the only one of its file.
   *
   * @throws CorruptImageException when the file holds none or several
   */
  KfdProcessEntry process() {
    List<KfdProcessEntry> infos = read("process", KfdProcessEntry.parser());
    if (infos.size() != 1) {
      throw new CorruptImageException("kfd-process-" + pid + ".img", "entries: actual="
          + infos.size() + " expected=1");
    }
    return infos.getFirst();
  }

  @SuppressWarnings("unchecked")
  private <T extends MessageLite> List<T> read(String what, Parser<T> parser) {
    List<?> list = parsed.get(what);
    if (list == null) {
      // A damaged file throws each time it is asked for, as a fresh read would.
      list = images.readEntries(what, pid, parser);
      parsed.putIfAbsent(what, list);
    }
    return (List<T>) list;
  }
}
