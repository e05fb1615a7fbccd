package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.image.PartialSets;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.node.NodeServer;
import dev.accr.node.NodeService;
import dev.accr.node.RunDirectory;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code accr node serve}: runs a node in the foreground (what {@code node start} launches). */
@Command(name = "serve", hidden = true, description = "Run a node daemon in the foreground.")
final class NodeServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--name", required = true)
  String name;

  @Option(names = "--topology", required = true)
  String topology;

  @Option(names = "--listen", paramLabel = "HOST:PORT")
  String listen;

  @Override
  public Integer call() throws Exception {
    RunDirectory.checkName(name);
    Registry registry = AccrCommand.registry(spec); // this node's own, loaded at its start
    RunDirectory run = RunDirectory.fromEnvironment().create();
    Node node = new Node(name, registry.topologies().load(topology), registry);
    NodeServer[] server = new NodeServer[1];
    NodeService service = new NodeService(node, () -> {
      // Answer the shutdown request first, then stop.
      Thread.ofPlatform().start(() -> {
        node.close();
        server[0].close();
      });
    });
    server[0] = NodeServer.bind(service, run.socket(name), tcp(listen));
    PartialSets.removeDead(run.path().resolve("images").resolve(name)); // dumps that died
    Runtime.getRuntime().addShutdownHook(new Thread(server[0]::close));
    server[0].start();
    System.out.printf("%s node %s up: topology %s, socket %s%s%n", Instant.now(), name,
        node.topology().getName(), run.socket(name),
        listen == null ? "" : ", tcp " + server[0].tcpAddress());
    server[0].awaitStop();
    System.out.printf("%s node %s stopped%n", Instant.now(), name);
    return 0;
  }

  private static InetSocketAddress tcp(String listen) {
    if (listen == null) {
      return null;
    }
    int colon = listen.lastIndexOf(':');
    if (colon <= 0) {
      throw AccrException.usage("--listen %s: expected HOST:PORT", listen);
    }
    try {
      return new InetSocketAddress(listen.substring(0, colon),
          Integer.parseInt(listen.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw AccrException.usage("--listen %s: port is not a number", listen);
    }
  }
}
