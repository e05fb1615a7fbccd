package dev.accr.node;

import dev.accr.engine.LazyRestore;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.LazyDeviceInfo;
import dev.accr.proto.LazyPagesInfo;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The lazy restores of a node's processes, for {@code accr ps}: kept until the process leaves
 * the process table, so that ps still tells how its pages came once they are all in. Those of
 * processes gone are forgotten at each ps and each new lazy restore: a restore holds its
 * process's page list, which must not pile up on a node that nobody asks.
 */
final class LazyInfos {
  private final Node node;
  private final Map<Integer, LazyRestore> byPid = new ConcurrentHashMap<>();

  LazyInfos(Node node) {
    this.node = node;
  }

  /** Records how process {@code pid} was restored: lazily, or (null) not. */
  void restored(int pid, LazyRestore lazy) {
    forgetGone();
    if (lazy != null) {
      byPid.put(pid, lazy);
    } else {
      byPid.remove(pid); // an earlier process with this pid
    }
  }

  /** The figures of process {@code pid}, or null when it was not restored lazily. */
  LazyPagesInfo of(int pid) {
    LazyRestore lazy = byPid.get(pid);
    return lazy == null ? null : toInfo(lazy.progress(), lazy.checkFirst());
  }

  /** Forgets the processes that are no longer in the node's table. */
  void forgetGone() {
    Set<Integer> live = node.processes().stream().map(SimProcess::pid)
        .collect(Collectors.toSet());
    byPid.keySet().retainAll(live);
  }

  /** How many processes' lazy restores are kept. */
  int size() {
    return byPid.size();
  }

  static LazyPagesInfo toInfo(LazyRestore.Progress p, boolean checkedFirst) {
    LazyPagesInfo.Builder b = LazyPagesInfo.newBuilder().setPagesTotal(p.pagesTotal())
        .setPagesFaulted(p.pagesFaulted()).setPagesPushed(p.pagesPushed()).setDone(p.done())
        .setFailure(p.failure()).setMillis(p.millis()).addAllEagerPlugins(p.eager())
        .setCheckedFirst(checkedFirst);
    for (LazyRestore.DeviceProgress d : p.devices()) {
      b.addDevices(LazyDeviceInfo.newBuilder().setName(d.name()).setUnits(d.units())
          .setUnitBytes(d.unitBytes()).setFaulted(d.faulted()).setPushed(d.pushed()));
    }
    return b.build();
  }
}
