package dev.accr.cli;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A node's run-directory file naming the TCP address it bound: {@code HOST:PORT}. */
final class TcpAddressFile {
  private TcpAddressFile() {}

  /** Writes {@code address} to {@code file} whole: a reader never sees half of it. */
  static void write(Path file, SocketAddress address) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text((InetSocketAddress) address) + "\n");
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** {@code HOST:PORT}, an IPv6 host in brackets, as {@code --node} and {@code --listen} take it. */
  static String text(InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    return (address.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":"
        + address.getPort();
  }
}
