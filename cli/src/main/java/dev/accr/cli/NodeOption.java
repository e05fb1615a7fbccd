package dev.accr.cli;

import dev.accr.image.ProgressListener;
import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code --node} option shared by commands that talk to a node, with its TLS material. */
final class NodeOption {
  /** Environment variable naming the client's TLS directory. */
  static final String TLS_DIR_ENV = "ACCR_TLS_DIR";

  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--node", defaultValue = "default", paramLabel = "NODE",
      description = {"Node name, or [NAME@]HOST:PORT of a node listening on TCP "
          + "(default: ${DEFAULT-VALUE}).",
          "With NAME@, the node's certificate must name node NAME."})
  String node;

  @Option(names = "--tls", paramLabel = "DIR",
      description = "TLS material for a node on TCP: DIR/ca.pem and this client's certificate "
          + "and key (default: $" + TLS_DIR_ENV + ").")
  Path tls;

  @Option(names = "--tls-name", paramLabel = "NAME", defaultValue = "client",
      description = "Client certificate to use: DIR/NAME.pem and DIR/NAME.key "
          + "(default: ${DEFAULT-VALUE}).")
  String tlsName;

  Response call(Request request) {
    return call(request, ProgressListener.NONE);
  }

  Response call(Request request, ProgressListener progress) {
    return call(request, progress, new NodeClient.Cancel());
  }

  /**
   * Sends {@code request}, asking the node for its log lines when {@code -v} or
   * {@code --log-file} is given; {@code cancel} ends a dump or restore early.
   */
  Response call(Request request, ProgressListener progress, NodeClient.Cancel cancel) {
    CliLog log = spec == null ? CliLog.NONE : AccrCommand.log(spec);
    Request r = log.nodeLevel() == 0 ? request
        : request.toBuilder().setLogLevel(log.nodeLevel()).build();
    return NodeClient.of(node, RunDirectory.fromEnvironment(), identity())
        .call(r, progress, log.nodeLines(), cancel);
  }

  /**
   * Sends a dump or restore: while it runs, Ctrl-C erases {@code bar} and asks the node to
   * cancel, and the call returns the node's answer to that.
   */
  Response callCancellable(Request request, ProgressBar bar, NodeClient.Cancel cancel) {
    try (CtrlC ignored = CtrlC.cancels(cancel, bar::erase)) {
      return call(request, bar, cancel);
    }
  }

  /** The client's TLS identity for a node on TCP, or null (no TLS, or a local node). */
  private TlsIdentity identity() {
    Path dir = tls;
    if (dir == null) {
      String fromEnv = spec == null ? System.getenv(TLS_DIR_ENV)
          : AccrCommand.env(spec, TLS_DIR_ENV);
      dir = fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv);
    }
    if (dir == null || !node.contains(":")) {
      return null;
    }
    return TlsIdentity.load(new TlsDirectory(dir), tlsName).checkCurrent();
  }
}
