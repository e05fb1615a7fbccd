package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.ImageSetWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FrameInput over an input that gives a few KiB per read, as a TLS socket gives a record at a
 * time: frames and payloads come out whole and in order, a payload in pieces as large as the
 * buffer allows, the end of the stream after whole frames is the end, and inside one an error.
 */
class FrameInputTest {
  @TempDir Path tmp;

  /** Gives at most {@code chunk} bytes per read. */
  private static InputStream trickling(byte[] bytes, int chunk) {
    return new ByteArrayInputStream(bytes) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, chunk));
      }
    };
  }

  private IncomingSet set() {
    return new IncomingSet(ImageSetWriter.create(tmp.resolve("set")), Caller.LOCAL, 0, "test",
        Duration.ofSeconds(30));
  }

  @Test
  void payloadsGatheredFromSmallReadsComeOutWholeAndTheEndIsTheEnd() throws Exception {
    SplittableRandom random = new SplittableRandom(5);
    // Frames: type, an int, then a payload of the int's length; two of them larger than the
    // buffer (1 MiB), so that it fills, moves what is unread to its front and fills again.
    int[] lengths = {10, 3 << 20, 16384, 1, (1 << 20) + 7, 70000};
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    List<byte[]> payloads = new ArrayList<>();
    for (int length : lengths) {
      byte[] payload = new byte[length];
      random.nextBytes(payload);
      payloads.add(payload);
      stream.write(7);
      stream.write(ByteBuffer.allocate(4).putInt(length).array());
      stream.write(payload);
    }
    try (FrameInput in = new FrameInput(Inbound.of(trickling(stream.toByteArray(), 16389)),
        set())) {
      for (byte[] expected : payloads) {
        assertEquals(7, in.type());
        int length = in.readInt();
        assertEquals(expected.length, length);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        List<Integer> pieces = new ArrayList<>();
        in.payload(length, piece -> {
          pieces.add(piece.remaining());
          byte[] b = new byte[piece.remaining()];
          piece.get(b);
          got.write(b, 0, b.length);
        });
        assertArrayEquals(expected, got.toByteArray());
        // What the buffer held first, then pieces gathered up to the buffer's size (not
        // handed on read by read), then the rest.
        assertTrue(pieces.size() <= length / (1 << 20) + 2, pieces.toString());
        for (int k = 1; k < pieces.size() - 1; k++) {
          assertEquals(1 << 20, pieces.get(k), pieces.toString());
        }
      }
      assertEquals(-1, in.type());
    }
  }

  @Test
  void aStreamEndingInsideAFrameIsAnError() throws Exception {
    byte[] frame = new byte[1 + 4 + 100];
    frame[0] = 7;
    ByteBuffer.wrap(frame, 1, 4).putInt(100);
    byte[] cut = Arrays.copyOf(frame, 60);
    try (FrameInput in = new FrameInput(Inbound.of(trickling(cut, 16)), set())) {
      assertEquals(7, in.type());
      int length = in.readInt();
      assertThrows(EOFException.class, () -> in.payload(length, piece -> { }));
    }
  }
}
