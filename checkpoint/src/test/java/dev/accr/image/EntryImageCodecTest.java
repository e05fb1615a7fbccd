package dev.accr.image;

import static dev.accr.testkit.ImageDamage.assertCorrupt;
import static dev.accr.testkit.ImageDamage.assertFails;
import static dev.accr.testkit.ImageDamage.flipBit;
import static dev.accr.testkit.ImageDamage.putInt;
import static dev.accr.testkit.ImageDamage.reseal;
import static dev.accr.testkit.ImageDamage.truncate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import com.google.protobuf.MessageLite;
import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.testkit.Scenarios;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.RestoreStatsEntry;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.ExtFileEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.PagemapHead;
import dev.accr.proto.PstreeEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class EntryImageCodecTest {
  private static final CheckpointId ID = CheckpointId.random();

  private final FileSystem fs = Jimfs.newFileSystem(Configuration.unix());

  @AfterEach
  void closeFileSystem() throws IOException {
    fs.close();
  }

  static Stream<ImageKind> entryKinds() {
    return Arrays.stream(ImageKind.values()).filter(k -> k.body() == ImageKind.Body.ENTRIES);
  }

  @ParameterizedTest
  @MethodSource("entryKinds")
  void writtenFileReadsBackWithItsHeaderAndEntries(ImageKind kind) throws IOException {
    Path file = fs.getPath("/" + name(kind));
    List<MessageLite> entries = entriesOf(kind);
    EntryImageCodec.write(file, kind, ID, entries);
    EntryImage image = EntryImageCodec.read(file, kind, ID);
    assertEquals(new ImageFraming.Header(kind, ImageKind.VERSION_CURRENT, ID, name(kind),
        ImageFraming.headerLength(kind, ImageKind.VERSION_CURRENT, name(kind))), image.header());
    assertEquals(entries.stream().map(MessageLite::toByteString).toList(), image.entries());
    assertEquals(file.toString(), image.file());
  }

  @ParameterizedTest
  @MethodSource("entryKinds")
  void truncationAtEveryOffsetIsCorrupt(ImageKind kind) throws IOException {
    byte[] good = encode(kind, ImageKind.VERSION_CURRENT);
    for (int length = 0; length < good.length; length++) {
      expectCorrupt(kind, truncate(good, length), "truncated to " + length + " of " + good.length);
    }
  }

  @ParameterizedTest
  @MethodSource("entryKinds")
  void everyFlippedBitInHeaderBodyAndFooterIsCorrupt(ImageKind kind) throws IOException {
    byte[] good = encode(kind, ImageKind.VERSION_CURRENT);
    int bodyAt = ImageFraming.headerLength(kind, ImageKind.VERSION_CURRENT, name(kind));
    int footerAt = good.length - ImageFraming.FOOTER_LENGTH;
    assertTrue(bodyAt < footerAt, "the test file has a body");
    for (int offset = 0; offset < good.length; offset++) {
      String region = offset < bodyAt ? "header" : offset < footerAt ? "body" : "footer";
      for (int bit = 0; bit < 8; bit++) {
        expectCorrupt(kind, flipBit(good, offset, bit),
            "bit " + bit + " of byte " + offset + " (" + region + ") flipped");
      }
    }
  }

  @Test
  void bytesAppendedAfterTheFooterAreCorrupt() throws IOException {
    byte[] good = encode(ImageKind.CORE, ImageKind.VERSION_CURRENT);
    expectCorrupt(ImageKind.CORE, Arrays.copyOf(good, good.length + 1), "one byte appended");
    byte[] twice = Arrays.copyOf(good, 2 * good.length);
    System.arraycopy(good, 0, twice, good.length, good.length);
    expectCorrupt(ImageKind.CORE, twice, "file written twice");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 0x43524955 /* "CRIU" */, ~ImageFraming.MAGIC, 0x52434341})
  void wrongMagicIsCorruptEvenWithAValidChecksum(int magic) throws IOException {
    byte[] bad = reseal(putInt(encode(ImageKind.MM, ImageKind.VERSION_CURRENT), 0, magic));
    String message = expectCorrupt(ImageKind.MM, bad, "magic " + magic).getMessage();
    assertTrue(message.contains("not an accr image"), message);
  }

  @Test
  void fileOfAnotherKindIsCorrupt() throws IOException {
    Path file = write(ImageKind.MM, encode(ImageKind.CORE, ImageKind.VERSION_CURRENT));
    String message = assertCorrupt(file.toString(),
        () -> EntryImageCodec.read(file, ImageKind.MM, ID)).getMessage();
    assertTrue(message.contains("image kind: actual=core expected=mm"), message);
  }

  @Test
  void pagesFileIsNotAnEntryFile() throws IOException {
    byte[] pages = frame(ImageKind.PAGES, ImageKind.VERSION_CURRENT, new byte[0]);
    Path file = write(ImageKind.CORE, pages);
    String message = assertCorrupt(file.toString(),
        () -> EntryImageCodec.read(file, null, ID)).getMessage();
    assertTrue(message.contains("not an entry file"), message);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "cores", "x", "inventory-and-a-name-over-32-chars", "core\nFAKE",
      "stats\rdump", "\u00ff\u0000"})
  void unknownKindNameIsCorruptInOneLine(String kindName) throws IOException {
    byte[] name = kindName.getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer out = ByteBuffer.allocate(4 + 1 + name.length + 4 + CheckpointId.LENGTH
        + ImageFraming.FOOTER_LENGTH);
    out.putInt(ImageFraming.MAGIC).put((byte) name.length).put(name)
        .putInt(ImageKind.VERSION_CURRENT).put(ID.bytes());
    expectCorrupt(ImageKind.CORE, reseal(out.array()), "kind '" + kindName + "'");
  }

  @ParameterizedTest
  @MethodSource("entryKinds")
  void intactFileOfANewerVersionIsIncompatible(ImageKind kind) throws IOException {
    Path file = write(kind, encode(kind, ImageKind.VERSION_CURRENT + 1));
    assertFails(AccrException.INCOMPATIBLE, "too new", "version " + (ImageKind.VERSION_CURRENT + 1),
        () -> EntryImageCodec.read(file, kind, ID));
    assertFails(AccrException.INCOMPATIBLE, file.toString(), "names the file",
        () -> EntryImageCodec.read(file, kind, ID));
  }

  @ParameterizedTest
  @ValueSource(ints = {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0})
  void extremeVersionsAreIncompatible(int version) throws IOException {
    Path file = write(ImageKind.PSTREE, encode(ImageKind.PSTREE, version));
    String tooWhat = version > ImageKind.VERSION_CURRENT ? "too new" : "too old";
    assertFails(AccrException.INCOMPATIBLE, tooWhat, "version " + version,
        () -> EntryImageCodec.read(file, ImageKind.PSTREE, ID));
  }

  @Test
  void newerVersionWithAFlippedBitIsCorruptNotIncompatible() throws IOException {
    byte[] newer = encode(ImageKind.FILES, ImageKind.VERSION_CURRENT + 1);
    int inBody = ImageFraming.headerLength(ImageKind.FILES, ImageKind.VERSION_CURRENT,
        name(ImageKind.FILES)) + 3;
    expectCorrupt(ImageKind.FILES, flipBit(newer, inBody, 2), "newer version, body damaged");
  }

  @Test
  void fileOfAnotherImageSetIsCorrupt() throws IOException {
    Path file = write(ImageKind.CORE, encode(ImageKind.CORE, ImageKind.VERSION_CURRENT));
    String message = assertCorrupt(file.toString(),
        () -> EntryImageCodec.read(file, ImageKind.CORE, CheckpointId.random())).getMessage();
    assertTrue(message.contains("another image set"), message);
  }

  /** Bodies whose entry length, with a valid checksum, points past the end of the body. */
  @ParameterizedTest
  @ValueSource(strings = {
      "8080808008" + "00112233445566778899", // 2^31
      "ffffffff0f" + "00112233445566778899", // 2^32 - 1
      "ffffffffffffffffff01", // a 10-byte varint whose low 32 bits are 2^32 - 1
      "ffffffffffffffffffffff", // an 11-byte varint: malformed
      "80", // a varint cut short by the footer
      "0568656c6c", // 5 announced, 4 left
      "02686901" // a valid entry, then 1 announced and none left
  })
  void hostileEntryLengthIsCorrupt(String bodyHex) throws IOException {
    for (ImageKind kind : entryKinds().toList()) {
      byte[] bad = frame(kind, ImageKind.VERSION_CURRENT, HexFormat.of().parseHex(bodyHex));
      expectCorrupt(kind, bad, "body " + bodyHex);
    }
  }

  @Test
  void missingFileIsCorrupt() {
    Path file = fs.getPath("/core-7.img");
    String message = assertCorrupt(file.toString(),
        () -> EntryImageCodec.read(file, ImageKind.CORE, ID)).getMessage();
    assertTrue(message.contains("missing file"), message);
  }

  /** Jimfs would allocate the bytes; the default file system makes a sparse file. */
  @Test
  void fileLargerThanTheLimitIsRefusedBeforeBeingRead(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("pstree.img");
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.write(encode(ImageKind.PSTREE, ImageKind.VERSION_CURRENT));
      f.setLength(EntryImageCodec.MAX_FILE_BYTES + 1);
    }
    String message = assertCorrupt(file.toString(),
        () -> EntryImageCodec.read(file, ImageKind.PSTREE, ID)).getMessage();
    assertTrue(message.contains("file size: actual=" + (EntryImageCodec.MAX_FILE_BYTES + 1)),
        message);
  }

  private CorruptImageException expectCorrupt(ImageKind kind, byte[] bytes,
      String context) throws IOException {
    Path file = write(kind, bytes);
    return assertCorrupt(file.toString(), context,
        () -> EntryImageCodec.read(file, kind, ID));
  }

  private Path write(ImageKind kind, byte[] bytes) throws IOException {
    return Files.write(fs.getPath("/" + name(kind)), bytes);
  }

  private static String name(ImageKind kind) {
    return switch (kind) {
      case PLUGIN, PLUGIN_PAGEMAP, PLUGIN_PAGES -> kind.pluginFileName("kfd", "vram", 7);
      default -> kind.fileName(7); // single-file kinds ignore the number
    };
  }

  private static byte[] encode(ImageKind kind, int version) {
    return EntryImageCodec.encode(kind, version, ID, name(kind), entriesOf(kind));
  }

  /** A framed file with a hand-made body and a valid checksum. */
  private static byte[] frame(ImageKind kind, int version, byte[] body) {
    ByteBuffer out = ByteBuffer.allocate(ImageFraming.headerLength(kind, version, name(kind))
        + body.length + ImageFraming.FOOTER_LENGTH);
    ImageFraming.writeHeader(out, kind, version, ID, name(kind));
    out.put(body);
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    ImageFraming.writeFooter(out, crc.getValue());
    return out.array();
  }

  /** Entries like the ones a dump of a small two-thread process writes. */
  static List<MessageLite> entriesOf(ImageKind kind) {
    Random random = new Random(kind.ordinal());
    return switch (kind) {
      case INVENTORY -> List.of(InventoryEntry.newBuilder().setFormatVersion(1)
          .setToolVersion("0.1.0").setRootPid(7).setSourceTopology(
              Scenarios.registry().topologies().load("cpu-only"))
          .setSourceNode("a").setDumpTimeEpochMs(1_700_000_000_000L)
          .addFiles(ref("core-7.img", "core", 412)).addFiles(ref("pages-0.img", "pages", 1 << 20))
          .addFiles(ref("pstree.img", "pstree", 60)).build());
      case PSTREE -> List.of(
          PstreeEntry.newBuilder().setPid(7).setPpid(1).setPgid(7).setSid(7).addThreads(7)
              .addThreads(8).build(),
          PstreeEntry.newBuilder().setPid(9).setPpid(7).setPgid(7).setSid(7).addThreads(9).build());
      case CORE -> {
        CoreEntry.Builder core = CoreEntry.newBuilder().setPid(7).setExe("counter")
            .addAllArgv(List.of("--mem-mib", "2", "--steps", "10", "--out", "/tmp/c.out"))
            .addFds(FdEntry.newBuilder().setFd(3).setFileId(1));
        for (int tid = 7; tid <= 8; tid++) {
          ThreadCoreEntry.Builder t = ThreadCoreEntry.newBuilder().setTid(tid)
              .setPc(random.nextLong());
          for (int i = 0; i < 16; i++) {
            t.addGpr(random.nextLong());
          }
          core.addThreads(t);
        }
        yield List.of(core.build());
      }
      case MM -> List.of(MmEntry.newBuilder().setPid(7)
          .addVmas(VmaEntry.newBuilder().setStart(0x10000).setLength(2 << 20).setProt(3)
              .setKind(dev.accr.proto.VmaKind.VMA_ANON).setName("heap"))
          .addVmas(VmaEntry.newBuilder().setStart(0x7f0000000000L).setLength(1 << 16).setProt(1)
              .setKind(dev.accr.proto.VmaKind.VMA_FILE).setPath("/lib/x.so").setOffset(4096))
          .build());
      case PAGEMAP -> List.of(
          PagemapHead.newBuilder().setPid(7).setPageSize(4096).build(),
          PageChunkEntry.newBuilder().setPagesFile(0).setFileOffset(47).setStoredLength(9000)
              .addRuns(PageRun.newBuilder().setVaddr(0x10000).setNrPages(3))
              .addRuns(PageRun.newBuilder().setVaddr(0x20000).setNrPages(13)).build(),
          PageChunkEntry.newBuilder().setPagesFile(1).setFileOffset(47).setStoredLength(65536)
              .addRuns(PageRun.newBuilder().setVaddr(0x40000).setNrPages(16)).build());
      case FILES -> List.of(FileEntry.newBuilder().setId(1).setReg(RegFileEntry.newBuilder()
          .setPath("/tmp/c.out").setFlags(0x441).setPos(120).setSize(120)).build());
      case PIPES -> List.of(dev.accr.proto.PipeEntry.newBuilder().setId(3).setCapacity(65536)
          .setData(com.google.protobuf.ByteString.copyFromUtf8("in flight")).setReaders(1)
          .setWriters(1).build());
      case SHMEM -> List.of(dev.accr.proto.ShmemEntry.newBuilder().setId(4).setName("counters")
          .setLength(1 << 16).setOwnerPid(7).setOwnerVaddr(0x10000).build());
      case STATS_DUMP -> List.of(DumpStatsEntry.newBuilder().setFrozenTimeUs(1234)
          .setMemdumpTimeUs(987).setTotalTimeUs(4321).setPagesScanned(512)
          .setPagesSkippedZero(100).setPagesWritten(412).setBytesRead(2 << 20)
          .setBytesWritten(1_000_000).setCompression("zstd:1").setThreads(2).build());
      case STATS_RESTORE -> List.of(RestoreStatsEntry.newBuilder().setPid(7).setNode("b")
          .setTotalTimeUs(5000).setPagesRestored(412).addPhases(PhaseTimeEntry.newBuilder()
              .setPhase("memory").setTimeUs(900)).addMoved(BytesMovedEntry.newBuilder()
              .setSource("memory").setBytesRead(1_000_000).setBytesWritten(412 * 4096)).build());
      case PLUGIN -> List.of(FileEntry.newBuilder().setId(2).setExt(ExtFileEntry.newBuilder()
          .setPlugin("kfd").setPath("/dev/kfd")).build());
      case PLUGIN_PAGEMAP -> List.of(
          PluginPagemapHead.newBuilder().setPlugin("kfd").setWhat("vram").setId(7)
              .setPagesFileSize(1 << 20).build(),
          PluginChunkEntry.newBuilder().setKey(0x10_0000_0000L).setFileOffset(39)
              .setRawLength(1 << 20).setStoredLength(4000).build());
      case PAGES, PLUGIN_PAGES -> throw new IllegalArgumentException("no entries in " + kind);
    };
  }

  private static ImageFileRef ref(String name, String kind, long size) {
    return ImageFileRef.newBuilder().setName(name).setKind(kind).setSize(size).build();
  }
}
