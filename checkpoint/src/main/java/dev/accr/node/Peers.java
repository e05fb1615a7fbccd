package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.node.tls.TlsIdentity;

/**
 * How a node reaches other nodes (to stream a set there, or migrate a process): local nodes by
 * name through the run directory, others at {@code [NAME@]HOST:PORT} over TLS with this node's
 * own certificate as the client certificate (node certificates allow client use).
 */
public record Peers(RunDirectory run, TlsIdentity tls) {
  /** A node that reaches no other node. */
  public static final Peers NONE = new Peers(null, null);

  /** A client of node {@code target}. */
  public NodeClient client(String target) {
    if (run == null) {
      throw AccrException.usage("this node cannot reach other nodes (it runs embedded)");
    }
    return NodeClient.of(target, run, tls);
  }
}
