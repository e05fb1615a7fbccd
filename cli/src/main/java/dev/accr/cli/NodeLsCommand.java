package dev.accr.cli;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.accr.engine.JsonOutput;
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
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr node ls}: the nodes of this run directory and whether they answer. */
@Command(name = "ls", mixinStandardHelpOptions = true, description = "List node daemons.")
final class NodeLsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print a JSON array: name, topology, state (running"
      + " or stale), processes, the daemon's pid and the TCP address it listens on (tcp,"
      + " HOST:PORT, if it does) of each node.")
  boolean json;

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
    ListValue.Builder nodes = ListValue.newBuilder();
    if (!json) {
      out.printf("%-16s %-12s %-10s %-9s %s%n", "NAME", "TOPOLOGY", "STATE", "PROCESSES", "PID");
    }
    for (Path socket : sockets) {
      String name = socket.getFileName().toString().replaceFirst("\\.sock$", "");
      Struct.Builder node = Struct.newBuilder().putFields("name", text(name));
      try {
        PingReply ping = NodeClient.of(name, run).call(Request.newBuilder()
            .setPing(PingRequest.getDefaultInstance()).build(), dev.accr.image.ProgressListener.NONE)
            .getPing();
        node.putFields("topology", text(ping.getTopology().getName()))
            .putFields("state", text("running"))
            .putFields("processes", Value.newBuilder().setNumberValue(ping.getProcesses()).build())
            .putFields("pid", Value.newBuilder().setNumberValue(ping.getPid()).build());
        String tcp = run.readTcpAddress(name);
        if (tcp != null) {
          node.putFields("tcp", text(tcp));
        }
        if (!json) {
          out.printf("%-16s %-12s %-10s %-9d %d%n", name, ping.getTopology().getName(), "running",
              ping.getProcesses(), ping.getPid());
        }
      } catch (AccrException e) {
        node.putFields("state", text("stale"));
        if (!json) {
          out.printf("%-16s %-12s %-10s %-9s %s%n", name, "-", "stale", "-", "-");
        }
      }
      nodes.addValues(Value.newBuilder().setStructValue(node));
    }
    if (json) {
      out.println(JsonOutput.print(nodes));
    }
    return 0;
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
