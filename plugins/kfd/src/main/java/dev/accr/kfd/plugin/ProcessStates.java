package dev.accr.kfd.plugin;

import dev.accr.api.PluginContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Everything the plugin keeps for an operation that may span several processes (a tree), as
 * the context holds one attachment per plugin: state per process (by kind and pid) and state
 * of the whole operation (one of each kind).
 */
final class ProcessStates {
  private final Map<Class<?>, Map<Integer, Object>> states = new ConcurrentHashMap<>();
  private final Map<Class<?>, Object> operation = new ConcurrentHashMap<>();

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

  /** The operation's state of {@code type}, created by {@code create} on first use. */
  <T> T operation(Class<T> type, java.util.function.Supplier<T> create) {
    return type.cast(operation.computeIfAbsent(type, k -> create.get()));
  }

  /** The operation's state of {@code type}, or null. */
  <T> T operation(Class<T> type) {
    return type.cast(operation.get(type));
  }

  /** Sets the operation's state of its type. */
  void setOperation(Object state) {
    operation.put(state.getClass(), state);
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
