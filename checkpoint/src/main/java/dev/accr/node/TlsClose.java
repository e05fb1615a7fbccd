package dev.accr.node;

import java.net.Socket;
import java.net.SocketException;
import javax.net.ssl.SSLSocket;

/**
 * How a long-lived connection whose peer may read nothing any more (a post-copy link) is set to
 * close. Closing a TLS socket sends its close_notify alert first, under the lock of any write
 * under way, which a peer that reads nothing holds for ever: the JDK's TLS socket waits for that
 * lock at most its SO_LINGER, so a TLS connection gets a linger of a second. A plain TCP
 * connection closes at once and the kernel delivers what is left; a linger there would reset the
 * connection after a second and throw away whatever the peer had not taken yet.
 */
final class TlsClose {
  /** Seconds a TLS close waits for a write under way. */
  static final int LINGER_SECONDS = 1;

  private TlsClose() {}

  /** Bounds the close of {@code socket} if it is a TLS socket; leaves any other as it is. */
  static void bound(Socket socket) throws SocketException {
    if (socket instanceof SSLSocket) {
      socket.setSoLinger(true, LINGER_SECONDS);
    }
  }
}
