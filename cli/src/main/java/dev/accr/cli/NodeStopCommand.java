package dev.accr.cli;

import dev.accr.proto.Request;
import dev.accr.proto.ShutdownRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr node stop}: stops a node; its processes are killed. */
@Command(name = "stop", mixinStandardHelpOptions = true,
    description = "Stop a node daemon (its processes are killed).")
final class NodeStopCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--name", defaultValue = "default", description = "Node name (default: ${DEFAULT-VALUE}).")
  String name;

  @Override
  public Integer call() {
    NodeOption target = new NodeOption();
    target.node = name;
    target.call(Request.newBuilder().setShutdown(ShutdownRequest.getDefaultInstance()).build());
    spec.commandLine().getOut().printf("node %s stopped%n", name);
    return 0;
  }
}
