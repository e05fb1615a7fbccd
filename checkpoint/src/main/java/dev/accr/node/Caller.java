package dev.accr.node;

/**
 * Who sent a request: a client of the node's UNIX socket (the node's own user, who may name
 * any path) or a remote client over TCP, whose certificate names it and whose paths stay
 * inside the node's image root.
 *
 * @param remote whether the request came over TCP
 * @param address where it came from, for logs: the peer's address, or {@code local}
 * @param identity the name in the client's certificate, or empty
 */
public record Caller(boolean remote, String address, String identity) {
  /** A client of the UNIX socket, or a caller in the node's own JVM. */
  public static final Caller LOCAL = new Caller(false, "local", "");

  public Caller {
    address = address == null ? "" : address;
    identity = identity == null ? "" : identity;
  }
}
