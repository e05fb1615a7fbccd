package dev.accr.image;

import static dev.accr.testkit.ImageDamage.assertCorrupt;
import static dev.accr.testkit.ImageDamage.assertFails;
import static dev.accr.testkit.ImageDamage.flipBit;
import static dev.accr.testkit.ImageDamage.putInt;
import static dev.accr.testkit.ImageDamage.reseal;
import static dev.accr.testkit.ImageDamage.truncate;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkFileReaderTest {
  private static final CheckpointId ID = CheckpointId.random();
  /** Buffers as large as the reader allows, so only the reader's own checks refuse a chunk. */
  private static final ByteBuffer STORED =
      ByteBuffer.allocateDirect(ChunkCodec.maxStoredLength(ChunkFileReader.MAX_RAW_LENGTH));
  private static final ByteBuffer RAW = ByteBuffer.allocateDirect(ChunkFileReader.MAX_RAW_LENGTH);
  /** Chunk header fields, relative to the chunk's offset. */
  private static final int RAW_LENGTH_AT = 1;
  private static final int STORED_LENGTH_AT = 5;

  private final FileSystem fs = Jimfs.newFileSystem(Configuration.unix());
  private final Path file = fs.getPath("/img/pages-3.img");
  /** Random bytes (stored raw), text (zstd), a run of zeros (zstd). */
  private final List<byte[]> chunks = List.of(random(700), text(2000), new byte[300]);
  private long[] offsets;
  private byte[] good;

  @BeforeEach
  void writeGoodFile() throws IOException {
    Files.createDirectory(file.getParent());
    offsets = write(file, chunks);
    good = Files.readAllBytes(file);
  }

  @AfterEach
  void closeFileSystem() throws IOException {
    fs.close();
  }

  @Test
  void writtenChunksReadBackRawAndZstd() throws IOException {
    List<ChunkFileReader.Chunk> read = new ArrayList<>();
    List<byte[]> data = readAll(file, ID, STORED, read);
    assertEquals(chunks.size(), data.size());
    for (int i = 0; i < chunks.size(); i++) {
      assertArrayEquals(chunks.get(i), data.get(i), "chunk " + i);
      assertEquals(offsets[i], read.get(i).offset(), "offset of chunk " + i);
    }
    assertEquals(List.of(Compression.Codec.NONE, Compression.Codec.ZSTD, Compression.Codec.ZSTD),
        read.stream().map(ChunkFileReader.Chunk::codec).toList(), "both codecs are covered");
  }

  @Test
  void fileWithoutChunksReadsBackEmpty() throws IOException {
    Path empty = fs.getPath("/img/pages-0.img");
    write(empty, List.of());
    assertEquals(List.of(), readAll(empty, ID, STORED, new ArrayList<>()));
  }

  @Test
  void truncationAtEveryOffsetIsCorrupt() throws IOException {
    for (int length = 0; length < good.length; length++) {
      expectCorrupt(truncate(good, length), "truncated to " + length + " of " + good.length);
    }
  }

  @Test
  void everyFlippedBitInHeaderChunksAndFooterIsCorrupt() throws IOException {
    int footerAt = good.length - ImageFraming.FOOTER_LENGTH;
    for (int offset = 0; offset < good.length; offset++) {
      String region = region(offset, footerAt);
      for (int bit = 0; bit < 8; bit++) {
        expectCorrupt(flipBit(good, offset, bit),
            "bit " + bit + " of byte " + offset + " (" + region + ") flipped");
      }
    }
  }

  @Test
  void bytesAppendedAfterTheFooterAreCorrupt() throws IOException {
    expectCorrupt(Arrays.copyOf(good, good.length + 1), "one byte appended");
    expectCorrupt(Arrays.copyOf(good, good.length + 13), "a chunk header's worth appended");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 0x43524955, ~ImageFraming.MAGIC})
  void wrongMagicIsCorruptEvenWithAValidChecksum(int magic) throws IOException {
    String message = expectCorrupt(reseal(putInt(good, 0, magic)), "magic " + magic).getMessage();
    assertTrue(message.contains("not an accr image"), message);
  }

  @Test
  void entryFileIsNotABulkDataFile() throws IOException {
    Files.write(file, EntryImageCodec.encode(ImageKind.CORE, ImageKind.VERSION_CURRENT, ID,
        file.getFileName().toString(), List.of()));
    String message = assertCorrupt(file.toString(), () -> readAll(file, ID, STORED, null))
        .getMessage();
    assertTrue(message.contains("not a bulk-data file"), message);
  }

  @Test
  void fileOfAnotherImageSetIsCorrupt() {
    String message = assertCorrupt(file.toString(),
        () -> readAll(file, CheckpointId.random(), STORED, null)).getMessage();
    assertTrue(message.contains("another image set"), message);
  }

  @Test
  void missingFileIsCorrupt() {
    Path missing = fs.getPath("/img/pages-9.img");
    assertCorrupt(missing.toString(), () -> readAll(missing, ID, STORED, null));
  }

  @ParameterizedTest
  @ValueSource(ints = {ImageKind.VERSION_CURRENT + 1, Integer.MAX_VALUE, 0, -1})
  void intactFileOfAnotherVersionIsIncompatible(int version) throws IOException {
    Files.write(file, reseal(putInt(good, versionAt(), version)));
    String tooWhat = version > ImageKind.VERSION_CURRENT ? "too new" : "too old";
    assertFails(AccrException.INCOMPATIBLE, tooWhat, "version " + version,
        () -> readAll(file, ID, STORED, null));
    assertFails(AccrException.INCOMPATIBLE, file.toString(), "names the file",
        () -> readAll(file, ID, STORED, null));
  }

  @Test
  void newerVersionWithADamagedChunkIsCorruptNotIncompatible() throws IOException {
    byte[] newer = reseal(putInt(good, versionAt(), ImageKind.VERSION_CURRENT + 1));
    String message = expectCorrupt(flipBit(newer, (int) offsets[0] + 20, 3), "newer, damaged")
        .getMessage();
    assertTrue(message.contains("too new") && message.contains("checksum"), message);
  }

  /** Hostile raw lengths, with the file checksum recomputed (the chunk CRC covers the payload). */
  @ParameterizedTest
  @ValueSource(ints = {Integer.MIN_VALUE /* 2^31 */, Integer.MAX_VALUE, -1, 0,
      ChunkFileReader.MAX_RAW_LENGTH + 1})
  void hostileRawLengthIsCorrupt(int rawLength) throws IOException {
    for (int i = 0; i < chunks.size(); i++) {
      byte[] bad = reseal(putInt(good, (int) offsets[i] + RAW_LENGTH_AT, rawLength));
      expectCorrupt(bad, "chunk " + i + " raw length " + rawLength);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1 << 20})
  void hostileStoredLengthIsCorrupt(int storedLength) throws IOException {
    for (int i = 0; i < chunks.size(); i++) {
      byte[] bad = reseal(putInt(good, (int) offsets[i] + STORED_LENGTH_AT, storedLength));
      expectCorrupt(bad, "chunk " + i + " stored length " + storedLength);
    }
  }

  /** A zstd chunk that claims more or fewer raw bytes than it decompresses to. */
  @ParameterizedTest
  @ValueSource(ints = {1, 1999, 2001, ChunkFileReader.MAX_RAW_LENGTH})
  void rawLengthThatDoesNotMatchTheDataIsCorrupt(int rawLength) throws IOException {
    expectCorrupt(reseal(putInt(good, (int) offsets[1] + RAW_LENGTH_AT, rawLength)),
        "zstd chunk raw length " + rawLength);
  }

  @Test
  void chunkLargerThanTheCallersBufferIsRefused() throws IOException {
    ByteBuffer small = ByteBuffer.allocateDirect(699);
    String message = assertCorrupt(file.toString(), () -> readAll(file, ID, small, null))
        .getMessage();
    assertTrue(message.contains("stored length 700"), message);
  }

  private String region(int offset, int footerAt) {
    if (offset < offsets[0]) {
      return "file header";
    }
    if (offset >= footerAt) {
      return "footer";
    }
    for (int i = chunks.size() - 1; i >= 0; i--) {
      if (offset >= offsets[i]) {
        return "chunk " + i + (offset < offsets[i] + ChunkFileWriter.CHUNK_HEADER_LENGTH
            ? " header" : " payload");
      }
    }
    throw new AssertionError(offset);
  }

  private static int versionAt() {
    return 4 + 1 + ImageKind.PAGES.formatName().length();
  }

  private CorruptImageException expectCorrupt(byte[] bytes, String context)
      throws IOException {
    Files.write(file, bytes);
    return assertCorrupt(file.toString(), context, () -> readAll(file, ID, STORED, null));
  }

  /** Writes chunks as a dump does (zstd where it shrinks, raw otherwise); returns offsets. */
  private static long[] write(Path path, List<byte[]> data) throws IOException {
    long[] at = new long[data.size()];
    ByteBuffer raw = ByteBuffer.allocateDirect(1 << 16);
    ByteBuffer out = ByteBuffer.allocateDirect(ChunkCodec.maxStoredLength(1 << 16));
    try (ChunkFileWriter writer = ChunkFileWriter.create(path, ImageKind.PAGES, ID);
        ChunkCodec codec = new ChunkCodec(Compression.parse("zstd:3"))) {
      for (int i = 0; i < data.size(); i++) {
        raw.clear().put(data.get(i)).flip();
        ChunkCodec.Encoded encoded = codec.encode(raw, out);
        CRC32C crc = new CRC32C();
        crc.update(encoded.stored().duplicate());
        at[i] = writer.append(encoded.codec(), data.get(i).length, (int) crc.getValue(),
            encoded.stored());
      }
      writer.finish();
    }
    return at;
  }

  /**
   * Reads and decodes every chunk as the page loader does, then the footer; returns the raw
   * data. Chunk records are added to {@code read} when it is not null.
   */
  private static List<byte[]> readAll(Path path, CheckpointId id, ByteBuffer stored,
      List<ChunkFileReader.Chunk> read) throws IOException {
    List<byte[]> data = new ArrayList<>();
    try (ChunkFileReader reader = ChunkFileReader.open(path, id);
        ChunkCodec codec = new ChunkCodec(Compression.NONE)) {
      for (ChunkFileReader.Chunk c; (c = reader.next(stored)) != null; ) {
        ByteBuffer raw = codec.decode(c.codec(), stored, c.rawLength(), RAW, reader.file(),
            c.offset()).duplicate();
        byte[] bytes = new byte[raw.remaining()];
        raw.get(bytes);
        data.add(bytes);
        if (read != null) {
          read.add(c);
        }
      }
    }
    return data;
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(42).nextBytes(b);
    return b;
  }

  private static byte[] text(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ("step " + i / 10 + " counter\n").charAt(i % 10);
    }
    return b;
  }
}
