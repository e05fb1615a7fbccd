package dev.accr.node;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;

/**
 * A connection's input that waits as long as it takes: the node's sockets time out reads (a
 * client must send its request in time), but the source of a post-copy migration may be quiet
 * while the process runs without touching absent pages. A peer that dies closes its end, which
 * still ends the read.
 */
final class PatientInput extends FilterInputStream {
  PatientInput(InputStream in) {
    super(in);
  }

  @Override
  public int read() throws IOException {
    while (true) {
      try {
        return super.read();
      } catch (SocketTimeoutException e) {
        // quiet is not gone
      }
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    while (true) {
      try {
        return super.read(b, off, len);
      } catch (SocketTimeoutException e) {
        // quiet is not gone
      }
    }
  }
}
