package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.proto.Topology;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Nodes served from this JVM on the UNIX sockets of one run directory, sharing one image root
 * and reaching each other by name: what the in-process migration tests start their nodes with.
 * Closing it stops them, and whatever else was handed to {@link #alsoClose}, in reverse order.
 */
final class InProcessNodes implements AutoCloseable {
  private final Registry registry;
  private final RunDirectory run;
  private final Path root;
  private final List<AutoCloseable> open = new ArrayList<>();

  /** A run directory and an image root under {@code tmp}. */
  InProcessNodes(Registry registry, Path tmp) throws IOException {
    this.registry = registry;
    this.run = new RunDirectory(tmp.resolve("run")).create();
    this.root = Files.createDirectories(tmp.resolve("root"));
  }

  RunDirectory run() {
    return run;
  }

  Path root() {
    return root;
  }

  /** Serves node {@code name}, a machine of {@code topology}, set up by {@code configure}. */
  NodeService serve(String name, Topology topology, UnaryOperator<NodeService> configure)
      throws IOException {
    Node node = new Node(name, topology, registry);
    open.add(node);
    NodeService service = configure.apply(new NodeService(node, ImageRoot.open(root), () -> {})
        .reachingPeersWith(new Peers(run, null)));
    NodeServer server = NodeServer.bind(service, run.socket(name), null);
    server.start();
    open.add(server);
    return service;
  }

  /** A cpu-only node {@code name} as the service is by default. */
  NodeService serve(String name) throws IOException {
    return serve(name, registry.topologies().load("cpu-only"), s -> s);
  }

  /** Closed with the nodes, before those served before it was given. */
  <T extends AutoCloseable> T alsoClose(T resource) {
    open.add(resource);
    return resource;
  }

  /** Handles {@code r} on {@code s}; its last response, an error thrown as the node's. */
  static Response call(NodeService s, Request r) {
    List<Response> out = new ArrayList<>();
    s.handle(r, out::add);
    Response last = out.getLast();
    if (last.hasError()) {
      throw new AccrException(last.getError().getExitCode(), last.getError().getMessage());
    }
    return last;
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }
}
