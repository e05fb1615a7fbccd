package dev.accr.kernel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a set of processes holds of the node's shared kernel objects, and who else holds it:
 * each open file description, pipe and shared-memory object once, with every process (of the
 * set or not) that holds it and how. A dump writes each object once under its id and records
 * the holders; an object with a holder outside the set is an external resource.
 */
public final class SharedObjects {
  /** What an object is. */
  public enum Kind {
    /** A regular file's open description. */
    FILE,
    /** A device file's open description (a dma-buf, a render node). */
    DEVICE_FILE,
    /** One end of a pipe (the {@link Pipe} is its own object). */
    PIPE_END,
    /** One end of a socket pair (its two pipes are objects of their own). */
    SOCKET_END,
    /** A memfd's open description (its {@link SharedMemory} is an object of its own). */
    MEMFD,
    /** A pipe, or one direction of a socket pair, with its buffered bytes. */
    PIPE,
    /** MAP_SHARED memory or a memfd's memory: one set of frames. */
    SHARED_MEMORY
  }

  /** How a process holds an object: a descriptor, a mapping (by its start), or through another object. */
  public record Holder(int pid, String via) {
    @Override
    public String toString() {
      return "process " + pid + " (" + via + ")";
    }
  }

  /**
   * One shared object: its node-unique id, kind, the kernel object itself ({@link
   * FileDescription}, {@link Pipe} or {@link SharedMemory}), and its holders in pid order.
   */
  public record SharedObject(long id, Kind kind, Object object, List<Holder> holders) {
    /** The holders whose pid is not in {@code pids}. */
    public List<Holder> outside(Set<Integer> pids) {
      return holders.stream().filter(h -> !pids.contains(h.pid())).toList();
    }

    /** Processes (pids, in order) that hold it. */
    public Set<Integer> pids() {
      Set<Integer> out = new TreeSet<>();
      holders.forEach(h -> out.add(h.pid()));
      return out;
    }

    /** A name for messages, e.g. {@code pipe:[12]}. */
    public String describe() {
      return object.toString();
    }
  }

  private final Map<Object, SharedObject> objects = new IdentityHashMap<>();

  private SharedObjects() {}

  /**
   * The objects held by the live processes {@code pids} of {@code node} (zombies hold nothing),
   * in id order, each with all its holders on the node.
   */
  public static List<SharedObject> of(Node node, Collection<Integer> pids) {
    Set<Integer> wanted = Set.copyOf(pids);
    SharedObjects all = new SharedObjects();
    for (SimProcess p : node.processes()) {
      if (p.state() != SimProcess.State.EXITED) {
        all.collect(p);
      }
    }
    List<SharedObject> out = new ArrayList<>();
    for (SharedObject o : all.objects.values()) {
      if (o.holders().stream().anyMatch(h -> wanted.contains(h.pid()))) {
        out.add(new SharedObject(o.id(), o.kind(), o.object(), o.holders().stream()
            .sorted(Comparator.comparingInt(Holder::pid)).toList()));
      }
    }
    out.sort(Comparator.comparingLong(SharedObject::id));
    return out;
  }

  private void collect(SimProcess p) {
    for (Map.Entry<Integer, FileDescription> e : p.files().descriptions().entrySet()) {
      FileDescription d = e.getValue();
      String fd = "fd " + e.getKey();
      switch (d) {
        case OpenFile f -> add(f.id(), Kind.FILE, f, p.pid(), fd);
        case DeviceDescription dev -> add(dev.id(), Kind.DEVICE_FILE, dev, p.pid(), fd);
        case PipeEnd end -> {
          add(end.id(), Kind.PIPE_END, end, p.pid(), fd);
          add(end.pipe().id(), Kind.PIPE, end.pipe(), p.pid(), fd + ", " + end.describe());
        }
        case SocketEnd end -> {
          add(end.id(), Kind.SOCKET_END, end, p.pid(), fd);
          add(end.in().id(), Kind.PIPE, end.in(), p.pid(), fd + ", " + end.describe());
          add(end.out().id(), Kind.PIPE, end.out(), p.pid(), fd + ", " + end.describe());
        }
        case MemfdFile m -> {
          add(m.id(), Kind.MEMFD, m, p.pid(), fd);
          add(m.memory().id(), Kind.SHARED_MEMORY, m.memory(), p.pid(), fd + ", " + m.describe());
        }
      }
    }
    for (Vma vma : p.memory().vmas()) {
      if (vma.shared() != null) {
        add(vma.shared().id(), Kind.SHARED_MEMORY, vma.shared(), p.pid(),
            String.format("mapping %x", vma.start()));
      }
    }
  }

  private void add(long id, Kind kind, Object object, int pid, String via) {
    SharedObject o = objects.computeIfAbsent(object,
        k -> new SharedObject(id, kind, object, new ArrayList<>()));
    Holder h = new Holder(pid, via);
    if (!o.holders().contains(h)) {
      o.holders().add(h);
    }
  }

  /** The objects of {@code list} with a holder outside {@code pids}, in id order. */
  public static List<SharedObject> external(List<SharedObject> list, Set<Integer> pids) {
    return list.stream().filter(o -> !o.outside(pids).isEmpty()).toList();
  }

  /** A map from id to object, for a dump that writes each once. */
  public static Map<Long, SharedObject> byId(List<SharedObject> list) {
    Map<Long, SharedObject> out = new LinkedHashMap<>();
    list.forEach(o -> out.put(o.id(), o));
    return out;
  }
}
