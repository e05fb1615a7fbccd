package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Test;

/**
 * A post-copy connection's close: bounded by a linger on TLS only; on plain TCP the end still
 * delivers what the peer had not read when the connection was closed.
 */
class TlsCloseTest {
  private static final int BYTES = 1 << 20;
  /** Left unread when the reader pauses: more than it can hold, less than the writer buffers. */
  private static final int LEFT = 128 << 10;

  @Test
  void aPlainTcpConnectionClosedWhileItsPeerPausesStillDeliversEverything() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSendBufferSize(256 << 10);
          TlsClose.bound(s);
          OutputStream out = s.getOutputStream();
          out.write(new byte[BYTES]);
          out.flush();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      try (Socket client = new Socket()) {
        client.setReceiveBufferSize(16 << 10); // before the connection: its window stays small
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(),
            server.getLocalPort()));
        InputStream in = client.getInputStream();
        long read = in.readNBytes(BYTES - LEFT).length;
        // Written and closed while the rest waits, unread, on the writer's side.
        writer.get(10, TimeUnit.SECONDS);
        // A second linger would have reset the connection here, the rest lost with it.
        Thread.sleep((TlsClose.LINGER_SECONDS * 1000L) + 200);
        read += in.readAllBytes().length;
        assertEquals(BYTES, read);
      }
    }
  }

  @Test
  void aTlsSocketWaitsForAWriteUnderWayAtMostTheLinger() throws Exception {
    try (Socket plain = new Socket()) {
      TlsClose.bound(plain);
      assertEquals(-1, plain.getSoLinger());
    }
    try (SSLSocket tls = (SSLSocket) SSLSocketFactory.getDefault().createSocket()) {
      TlsClose.bound(tls);
      assertEquals(TlsClose.LINGER_SECONDS, tls.getSoLinger());
    }
  }
}
