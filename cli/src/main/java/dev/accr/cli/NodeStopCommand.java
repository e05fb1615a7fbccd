package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.node.RunDirectory;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.ShutdownRequest;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code accr node stop}: stops a node once its running dumps and restores end, or cancels them
 * with {@code --force}; its processes are killed.
 */
@Command(name = "stop", mixinStandardHelpOptions = true,
    description = "Stop a node daemon (its processes are killed). Running dumps and restores"
        + " are waited for, or cancelled with --force (a cancelled dump leaves its process as it"
        + " was and no image set).")
final class NodeStopCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "default",
      description = "Node to stop; repeat to stop several (default: ${DEFAULT-VALUE}).")
  List<String> names;

  @Option(names = "--force", description = "Cancel running dumps and restores instead of waiting.")
  boolean force;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "How long to wait for the node to stop (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws InterruptedException {
    if (timeoutSeconds < 1) {
      throw AccrException.usage("--timeout %d: must be at least 1", timeoutSeconds);
    }
    PrintWriter out = spec.commandLine().getOut();
    // All nodes are asked first, so that they stop together.
    for (String name : names) {
      for (String op : shutdown(name, force)) {
        out.printf("%s %s%n", force ? "cancelling" : "waiting for", op);
      }
    }
    out.flush();
    long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
    for (String name : names) {
      awaitGone(name, deadline);
      out.printf("node %s stopped%n", name);
    }
    return 0;
  }

  /** The node removes its socket as it exits: returns once it is gone. */
  private void awaitGone(String name, long deadline) throws InterruptedException {
    Path socket = RunDirectory.fromEnvironment().socket(name);
    while (Files.exists(socket) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    if (Files.exists(socket)) {
      List<String> still = stillRunning(name);
      throw AccrException.failed("node %s did not stop within %d s%s", name, timeoutSeconds,
          still.isEmpty() ? "" : "; still running: " + String.join(", ", still)
              + " (--force cancels)");
    }
  }

  private static List<String> shutdown(String name, boolean cancel) {
    NodeOption target = new NodeOption();
    target.node = name;
    Response r = target.call(Request.newBuilder()
        .setShutdown(ShutdownRequest.newBuilder().setForce(cancel)).build());
    return r.getShutdown().getWaitingForList();
  }

  /** Asks again (stopping is idempotent) what the node still waits for. */
  private static List<String> stillRunning(String name) {
    try {
      return shutdown(name, false);
    } catch (AccrException e) {
      return List.of(); // it is going away
    }
  }
}
