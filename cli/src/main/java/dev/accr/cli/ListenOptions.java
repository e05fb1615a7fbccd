package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.node.TcpListener;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * A node's TCP listener options: {@code --listen HOST:PORT} with {@code --tls DIR}, or
 * {@code --insecure} on a loopback address.
 */
final class ListenOptions {
  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "Also listen on TCP (port 0: any free port, which node start prints and node"
          + " ls --json names), with TLS: needs --tls DIR, or --insecure on a loopback address.")
  String listen;

  @Option(names = "--tls", paramLabel = "DIR",
      description = "TLS material of the node: DIR/ca.pem, DIR/NAME.pem and DIR/NAME.key for "
          + "--name NAME (made by accr tls init). Clients must present a certificate of that CA.")
  Path tls;

  @Option(names = "--insecure",
      description = "Listen on a loopback address without TLS: any local user may connect.")
  boolean insecure;

  /**
   * The TCP listener of node {@code name}, or null without {@code --listen}. Inconsistent options
   * are a usage error (exit 2); TLS material that cannot be used fails (exit 1).
   */
  TcpListener listener(String name) {
    if (listen == null) {
      if (tls != null || insecure) {
        throw AccrException.usage("--tls and --insecure are options of --listen");
      }
      return null;
    }
    InetSocketAddress address = address(listen);
    if (tls != null && insecure) {
      throw AccrException.usage("--tls and --insecure exclude each other");
    }
    if (tls == null) {
      if (!insecure) {
        throw AccrException.usage("--listen %s needs --tls DIR (or, on a loopback address only, "
            + "--insecure)", listen);
      }
      if (!TcpListener.isLoopback(address)) {
        throw AccrException.usage("--insecure is for loopback addresses only, not %s: give "
            + "--tls DIR", listen);
      }
      return TcpListener.insecure(address);
    }
    return TcpListener.tls(address, TlsIdentity.load(new TlsDirectory(tls), name).checkCurrent());
  }

  /** The same options, to pass on to the daemon ({@code --tls} made absolute). */
  List<String> args() {
    List<String> args = new ArrayList<>();
    if (listen != null) {
      args.addAll(List.of("--listen", listen));
    }
    if (tls != null) {
      args.addAll(List.of("--tls", tls.toAbsolutePath().toString()));
    }
    if (insecure) {
      args.add("--insecure");
    }
    return args;
  }

  private static InetSocketAddress address(String listen) {
    int colon = listen.lastIndexOf(':');
    if (colon <= 0) {
      throw AccrException.usage("--listen %s: expected HOST:PORT", listen);
    }
    String host = listen.substring(0, colon).replaceAll("^\\[(.*)]$", "$1");
    int port;
    try {
      port = Integer.parseInt(listen.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw AccrException.usage("--listen %s: port is not a number", listen);
    }
    if (port < 0 || port > 65535) {
      throw AccrException.usage("--listen %s: port out of range", listen);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw AccrException.usage("--listen %s: unknown host %s", listen, host);
    }
  }
}
