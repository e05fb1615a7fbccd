package dev.accr.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class RunningCrcTest {
  @Test
  void piecesAppendedByTheirChecksumsGiveTheChecksumOfTheWhole() {
    Random random = new Random(42);
    byte[] all = new byte[4 << 20];
    random.nextBytes(all);
    RunningCrc running = new RunningCrc();
    int at = 0;
    for (int length : new int[] {13, 1, 0, 1 << 20, 4096, 7, 2 * 1024 * 1024 - 4096}) {
      if (length % 2 == 0) {
        CRC32C piece = new CRC32C();
        piece.update(all, at, length);
        running.append((int) piece.getValue(), length);
      } else {
        running.update(ByteBuffer.wrap(all, at, length));
      }
      at += length;
    }
    CRC32C whole = new CRC32C();
    whole.update(all, 0, at);
    assertEquals(whole.getValue(), running.value());
  }

  @Test
  void nothingAppendedIsTheChecksumOfNothing() {
    assertEquals(new CRC32C().getValue(), new RunningCrc().value());
  }
}
