package dev.accr.image;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.CorruptImageException;
import dev.accr.proto.CoreEntry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamedFileCheckTest {
  private static final CheckpointId ID = CheckpointId.random();
  private static final String PAGES = ImageKind.PAGES.fileName(1);

  private static byte[] pagesFile(Path dir) throws Exception {
    Random random = new Random(5);
    ChunkFileWriter w = ChunkFileWriter.create(dir.resolve(PAGES), ImageKind.PAGES, ID);
    for (int i = 0; i < 5; i++) {
      byte[] payload = new byte[1000 + random.nextInt(9000)];
      random.nextBytes(payload);
      CRC32C crc = new CRC32C();
      crc.update(payload);
      w.append(Compression.Codec.NONE, payload.length, (int) crc.getValue(),
          ByteBuffer.wrap(payload));
    }
    w.finish();
    return Files.readAllBytes(dir.resolve(PAGES));
  }

  /** Feeds {@code bytes} in pieces of random sizes, as frames arrive. */
  private static void feed(StreamedFileCheck check, byte[] bytes, long seed) {
    Random random = new Random(seed);
    for (int at = 0; at < bytes.length; ) {
      int n = Math.min(bytes.length - at, 1 + random.nextInt(3000));
      check.accept(bytes, at, n);
      at += n;
    }
  }

  @Test
  void aWholeFileInAnyPiecesPasses(@TempDir Path dir) throws Exception {
    byte[] file = pagesFile(dir);
    for (long seed = 0; seed < 20; seed++) {
      StreamedFileCheck check = new StreamedFileCheck(PAGES, ID);
      feed(check, file, seed);
      assertDoesNotThrow(check::finish);
    }
  }

  @Test
  void aFlippedPayloadByteFailsThatChunksChecksumAsItArrives(@TempDir Path dir)
      throws Exception {
    byte[] file = pagesFile(dir);
    file[file.length / 2] ^= 0x10;
    StreamedFileCheck check = new StreamedFileCheck(PAGES, ID);
    CorruptImageException e = assertThrows(CorruptImageException.class,
        () -> feed(check, file, 1));
    assertTrue(e.getMessage().contains("chunk checksum failed"), e.getMessage());
  }

  @Test
  void piecesInNativeBuffersAreCheckedAlikeAndLeftAsTheyWere(@TempDir Path dir)
      throws Exception {
    byte[] file = pagesFile(dir);
    ByteBuffer direct = ByteBuffer.allocateDirect(file.length).put(file).flip();
    StreamedFileCheck check = new StreamedFileCheck(PAGES, ID);
    Random random = new Random(9);
    for (int at = 0; at < file.length; ) {
      int n = Math.min(file.length - at, 1 + random.nextInt(3000));
      ByteBuffer piece = direct.slice(at, n);
      check.accept(piece);
      assertEquals(0, piece.position());
      assertEquals(n, piece.remaining());
      at += n;
    }
    assertDoesNotThrow(check::finish);

    direct.put(file.length / 2, (byte) (file[file.length / 2] ^ 0x10));
    StreamedFileCheck bad = new StreamedFileCheck(PAGES, ID);
    CorruptImageException e = assertThrows(CorruptImageException.class,
        () -> bad.accept(direct.duplicate()));
    assertTrue(e.getMessage().contains("chunk checksum failed"), e.getMessage());
  }

  @Test
  void aTruncatedFileOrAnotherSetsFileIsRefused(@TempDir Path dir) throws Exception {
    byte[] file = pagesFile(dir);
    StreamedFileCheck cut = new StreamedFileCheck(PAGES, ID);
    feed(cut, java.util.Arrays.copyOf(file, file.length - 7), 2);
    assertThrows(CorruptImageException.class, cut::finish);

    StreamedFileCheck other = new StreamedFileCheck(PAGES, CheckpointId.random());
    CorruptImageException e = assertThrows(CorruptImageException.class,
        () -> feed(other, file, 3));
    assertTrue(e.getMessage().contains("checkpoint id"), e.getMessage());
  }

  @Test
  void anEntryFileIsCheckedAgainstItsFooter() throws Exception {
    String name = ImageKind.CORE.fileName(1000);
    byte[] file = EntryImageCodec.encode(ImageKind.CORE, ImageKind.VERSION_CURRENT, ID, name,
        List.of(CoreEntry.getDefaultInstance(), CoreEntry.newBuilder().setPid(1000).build()));
    StreamedFileCheck ok = new StreamedFileCheck(name, ID);
    feed(ok, file, 4);
    assertDoesNotThrow(ok::finish);

    file[file.length - 20] ^= 1;
    StreamedFileCheck bad = new StreamedFileCheck(name, ID);
    feed(bad, file, 5);
    CorruptImageException e = assertThrows(CorruptImageException.class, bad::finish);
    assertTrue(e.getMessage().contains("checksum failed"), e.getMessage());
  }
}
