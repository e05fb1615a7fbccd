package dev.accr.kernel;

import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A workload whose setup and step a test gives as lambdas (their state stays in the process). */
final class ScriptedWorkload implements Workload {
  private final Consumer<ProcessView> exec;
  private final Predicate<ProcessView> step;

  ScriptedWorkload(Consumer<ProcessView> exec, Predicate<ProcessView> step) {
    this.exec = exec;
    this.step = step;
  }

  static Node node(ScriptedWorkload w) {
    Registry registry = Registry.of(List.of(), List.of(), List.of(w));
    return new Node("tree", registry.topologies().load("cpu-only"), registry);
  }

  @Override
  public String name() {
    return "scripted";
  }

  @Override
  public String description() {
    return "a test's program";
  }

  @Override
  public String usage() {
    return "";
  }

  @Override
  public void exec(ProcessView process, List<String> args) {
    exec.accept(process);
  }

  @Override
  public boolean step(ProcessView process) {
    return step.test(process);
  }
}
