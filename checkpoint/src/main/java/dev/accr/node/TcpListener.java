package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.node.tls.TlsIdentity;
import java.net.InetSocketAddress;

/**
 * A node's TCP listener: its address and the node's TLS identity, or no identity for an
 * insecure listener, which only a loopback address may have.
 */
public record TcpListener(InetSocketAddress address, TlsIdentity tls) {
  public TcpListener {
    if (tls == null && !isLoopback(address)) {
      throw AccrException.usage("listening on %s without TLS: only a loopback address may "
          + "(give --tls DIR)", address);
    }
  }

  public static TcpListener insecure(InetSocketAddress address) {
    return new TcpListener(address, null);
  }

  public static TcpListener tls(InetSocketAddress address, TlsIdentity tls) {
    return new TcpListener(address, java.util.Objects.requireNonNull(tls));
  }

  public static boolean isLoopback(InetSocketAddress address) {
    return address.getAddress() != null && address.getAddress().isLoopbackAddress();
  }
}
