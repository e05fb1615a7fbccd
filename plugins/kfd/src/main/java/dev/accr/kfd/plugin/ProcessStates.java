package dev.accr.kfd.plugin;

import dev.accr.api.PluginContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The plugin's state per process in an operation that spans several processes (a tree): one
 * attachment of the operation, holding each kind of state by pid.
 */
final class ProcessStates {
  private final Map<Class<?>, Map<Integer, Object>> states = new ConcurrentHashMap<>();

  /** The operation's states, created on first use. */
  static ProcessStates of(PluginContext ctx) {
    synchronized (ctx) {
      ProcessStates s = ctx.attachment(ProcessStates.class);
      if (s == null) {
        s = new ProcessStates();
        ctx.attach(s);
      }
      return s;
    }
  }

  void put(int pid, Object state) {
    states.computeIfAbsent(state.getClass(), k -> new ConcurrentHashMap<>()).put(pid, state);
  }

  /** The state of {@code type} of process {@code pid}, or null. */
  <T> T get(Class<T> type, int pid) {
    Map<Integer, Object> byPid = states.get(type);
    return byPid == null ? null : type.cast(byPid.get(pid));
  }

  /** Every process's state of {@code type}, by pid. */
  <T> List<T> all(Class<T> type) {
    List<T> out = new ArrayList<>();
    new TreeMap<>(states.getOrDefault(type, Map.of())).values()
        .forEach(v -> out.add(type.cast(v)));
    return out;
  }
}
