package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import dev.accr.proto.PingReply;
import dev.accr.proto.PingRequest;
import dev.accr.proto.Request;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr node ls}: the nodes of this run directory and whether they answer. */
@Command(name = "ls", mixinStandardHelpOptions = true, description = "List node daemons.")
final class NodeLsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    RunDirectory run = RunDirectory.fromEnvironment();
    List<Path> sockets;
    if (!Files.isDirectory(run.path())) {
      sockets = List.of();
    } else {
      try (Stream<Path> s = Files.list(run.path())) {
        sockets = s.filter(p -> p.getFileName().toString().endsWith(".sock")).sorted().toList();
      }
    }
    out.printf("%-16s %-12s %-10s %-9s %s%n", "NAME", "TOPOLOGY", "STATE", "PROCESSES", "PID");
    for (Path socket : sockets) {
      String name = socket.getFileName().toString().replaceFirst("\\.sock$", "");
      try {
        PingReply ping = NodeClient.of(name, run).call(Request.newBuilder()
            .setPing(PingRequest.getDefaultInstance()).build(), dev.accr.image.ProgressListener.NONE)
            .getPing();
        out.printf("%-16s %-12s %-10s %-9d %d%n", name, ping.getTopology().getName(), "running",
            ping.getProcesses(), ping.getPid());
      } catch (AccrException e) {
        out.printf("%-16s %-12s %-10s %-9s %s%n", name, "-", "stale", "-", "-");
      }
    }
    return 0;
  }
}
