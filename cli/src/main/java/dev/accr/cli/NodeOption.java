package dev.accr.cli;

import dev.accr.image.ProgressListener;
import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import picocli.CommandLine.Option;

/** The {@code --node} option shared by commands that talk to a node. */
final class NodeOption {
  @Option(names = "--node", defaultValue = "default", paramLabel = "NODE",
      description = "Node name, or HOST:PORT of a node listening on TCP (default: ${DEFAULT-VALUE}).")
  String node;

  Response call(Request request) {
    return call(request, ProgressListener.NONE);
  }

  Response call(Request request, ProgressListener progress) {
    return NodeClient.of(node, RunDirectory.fromEnvironment()).call(request, progress);
  }
}
