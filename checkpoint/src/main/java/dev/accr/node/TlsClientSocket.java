package dev.accr.node;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * The TCP socket under a TLS client, which keeps a node's refusal readable. In TLS 1.3 the
 * client sends its certificate, its proof and its Finished in writes of their own; a node that
 * refuses the certificate sends its alert and closes as soon as it has read the certificate,
 * and the client's next write then fails (a broken pipe or a reset). The JDK's TLS socket
 * fails its handshake on that write and closes the connection with the alert unread. So while
 * the handshake runs a failed write is only noted: the handshake ends on the client's side,
 * and the client reads the node's alert, which its TLS socket can decrypt, instead of using
 * the connection ({@link #handshakeDone}).
 */
final class TlsClientSocket extends Socket {
  private volatile boolean handshaking = true;
  private volatile IOException failedWrite;
  private OutputStream out;

  @Override
  public synchronized OutputStream getOutputStream() throws IOException {
    if (out == null) {
      out = new Noting(super.getOutputStream());
    }
    return out;
  }

  /**
   * Ends the handshake: writes fail as they fail from now on. Returns the failure of a write
   * of the handshake, or null when all went out.
   */
  IOException handshakeDone() {
    handshaking = false;
    return failedWrite;
  }

  /** Notes a failed write during the handshake instead of throwing it. */
  private final class Noting extends OutputStream {
    private final OutputStream raw;

    Noting(OutputStream raw) {
      this.raw = raw;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (handshaking && failedWrite != null) {
        return; // the connection is lost: what follows cannot go out either
      }
      try {
        raw.write(b, off, len);
      } catch (IOException e) {
        noteOrThrow(e);
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        raw.flush();
      } catch (IOException e) {
        noteOrThrow(e);
      }
    }

    private void noteOrThrow(IOException e) throws IOException {
      if (!handshaking) {
        throw e;
      }
      if (failedWrite == null) {
        failedWrite = e;
      }
    }
  }
}
