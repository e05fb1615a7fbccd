package dev.accr.cli;

import dev.accr.proto.Request;
import dev.accr.proto.ThawRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr thaw}: lets a process that {@code dump --leave-stopped} left frozen run on. */
@Command(name = "thaw", mixinStandardHelpOptions = true,
    description = "Let a process that 'dump --leave-stopped' left stopped run on.")
final class ThawCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID",
      description = "The stopped process.")
  int pid;

  @Override
  public Integer call() {
    node.call(Request.newBuilder().setThaw(ThawRequest.newBuilder().setPid(pid)).build());
    spec.commandLine().getOut().printf("thawed %d on node %s%n", pid, node.node);
    return 0;
  }
}
