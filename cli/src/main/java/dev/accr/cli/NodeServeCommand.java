package dev.accr.cli;

import dev.accr.image.PartialSets;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.node.ImageRoot;
import dev.accr.node.NodeServer;
import dev.accr.node.NodeService;
import dev.accr.node.Peers;
import dev.accr.node.RunDirectory;
import dev.accr.node.ServerLimits;
import dev.accr.node.TcpListener;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.accr.engine.Version;
import dev.accr.node.NodeLog;
import java.util.logging.Logger;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code accr node serve}: runs a node in the foreground (what {@code node start} launches). */
@Command(name = "serve", hidden = true, description = "Run a node daemon in the foreground.")
final class NodeServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--name", required = true, paramLabel = "NAME", description = "Node name.")
  String name;

  @Option(names = "--topology", required = true, paramLabel = "PRESET|FILE",
      description = "Preset name or topology file.")
  String topology;

  @Mixin ListenOptions listen;

  @Mixin NodeLimitOptions limits;

  @Option(names = "--images-root", paramLabel = "DIR",
      description = "Where paths named by clients over TCP resolve.")
  Path imagesRoot;

  @Override
  public Integer call() throws Exception {
    RunDirectory.checkName(name);
    Logger log = NodeLog.install(System.out); // node start sends it to the node's log file
    TcpListener tcp = listen.listener(name);
    Registry registry = AccrCommand.registry(spec); // this node's own, loaded at its start
    RunDirectory run = RunDirectory.fromEnvironment().create();
    Node node = new Node(name, registry.topologies().load(topology), registry, limits.limits());
    ImageRoot root = ImageRoot.open(imagesRoot != null ? imagesRoot
        : ImageRoot.defaultFor(run, name));
    NodeServer[] server = new NodeServer[1];
    NodeService service = new NodeService(node, root, () -> {
      // Answer the shutdown request first, then stop.
      Thread.ofPlatform().start(() -> {
        node.close();
        server[0].close();
      });
    });
    service.logsTo(run.log(name))
        .reachingPeersWith(new Peers(run, tcp == null ? null : tcp.tls()));
    server[0] = NodeServer.bind(service, run.socket(name), tcp, ServerLimits.defaults());
    if (tcp != null) {
      TcpAddressFile.write(run.tcpAddress(name), server[0].tcpAddress()); // before it answers
    }
    // Dumps anywhere in the image root that died with a node.
    PartialSets.removeDeadBelow(root.path(), 32);
    Runtime.getRuntime().addShutdownHook(new Thread(server[0]::close));
    server[0].start();
    log.info(String.format("node %s up: accr %s, pid %d, topology %s, socket %s%s", name,
        Version.get(), ProcessHandle.current().pid(), node.topology().getName(),
        run.socket(name),
        tcp == null ? "" : ", tcp " + server[0].tcpAddress()
            + (tcp.tls() == null ? " (insecure)" : " (TLS, CA " + tcp.tls().directory().ca() + ")")
            + ", images root " + root));
    server[0].awaitStop();
    if (tcp != null) {
      Files.deleteIfExists(run.tcpAddress(name));
    }
    log.info("node " + name + " stopped");
    return 0;
  }
}
