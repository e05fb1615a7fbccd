package dev.accr.cli;

import dev.accr.proto.KillRequest;
import dev.accr.proto.Request;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr kill}: ends a process of a node, running or stopped, without a digest. */
@Command(name = "kill", mixinStandardHelpOptions = true,
    description = "Kill a process of a node (running, or stopped after a dump); it ends without"
        + " a digest.")
final class KillCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID",
      description = "The process to kill.")
  int pid;

  @Override
  public Integer call() {
    node.call(Request.newBuilder().setKill(KillRequest.newBuilder().setPid(pid)).build());
    spec.commandLine().getOut().printf("killed %d on node %s%n", pid, node.node);
    return 0;
  }
}
