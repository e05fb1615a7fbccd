package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.node.RunDirectory;
import dev.accr.proto.Request;
import java.nio.file.Files;
import java.nio.file.Path;
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
  private static final long STOP_TIMEOUT_MS = 10_000;

  @Spec CommandSpec spec;

  @Option(names = "--name", defaultValue = "default", description = "Node name (default: ${DEFAULT-VALUE}).")
  String name;

  @Override
  public Integer call() throws InterruptedException {
    NodeOption target = new NodeOption();
    target.node = name;
    target.call(Request.newBuilder().setShutdown(ShutdownRequest.getDefaultInstance()).build());
    // The node removes its socket as it exits: return once it is gone.
    Path socket = RunDirectory.fromEnvironment().socket(name);
    long deadline = System.currentTimeMillis() + STOP_TIMEOUT_MS;
    while (Files.exists(socket) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    if (Files.exists(socket)) {
      throw AccrException.failed("node %s did not stop within %d s", name, STOP_TIMEOUT_MS / 1000);
    }
    spec.commandLine().getOut().printf("node %s stopped%n", name);
    return 0;
  }
}
