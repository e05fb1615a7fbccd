package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code accr check} refuses what restore refuses, files copied over others, and files that
 * are not regular; {@code show} and {@code encode} refuse hostile input at once, in one line.
 */
class CheckCommandTest {
  @TempDir Path tmp;

  private Path set(String name) throws IOException {
    return ImageEdits.copy(TestSets.CHECKED_IN.resolve("v3").resolve(name), tmp.resolve(name));
  }

  @Test
  void theCheckedInSetsPass() throws IOException {
    for (String name : List.of("kfd-train", "npu-infer", "counter")) {
      CliRun r = accr("check", set(name).toString());
      assertEquals(0, r.code(), r.err());
    }
  }

  /**
   * The checked-in chains pass; a link of another chain put in the middle, a parent deleted, a
   * cycle of parents: exit code 3, one line naming the link whose parent broke.
   */
  @Test
  void aChainWithALinkOfAnotherChainADeletedParentOrACycleIsRefused() throws IOException {
    Path counter = chain("counter-chain");
    Path serve = chain("kfd-serve-chain");
    for (Path last : List.of(counter.resolve("link-3"), serve.resolve("link-3"))) {
      CliRun r = accr("check", last.toString());
      assertEquals(0, r.code(), r.err());
    }
    // Both roots have pid 1000: only the checkpoint id tells the chains apart.
    deleteLink(counter.resolve("link-2"));
    ImageEdits.copy(serve.resolve("link-2"), counter.resolve("link-2"));
    assertOneLine(accr("check", counter.resolve("link-3").toString()), 3, "another chain");

    Path deleted = chain("counter-chain-deleted");
    deleteLink(deleted.resolve("link-2"));
    assertOneLine(accr("check", deleted.resolve("link-3").toString()), 3, "'../link-2'");

    Path cycle = chain("counter-chain-cycle");
    ByteString lastId = ByteString.copyFrom(checkpointId(cycle.resolve("link-3")));
    dev.accr.testkit.ImageEdits.edit(cycle.resolve("link-1"), "inventory.img",
        dev.accr.image.ImageKind.INVENTORY, InventoryEntry.parser(),
        inv -> inv.toBuilder().setParentPath("../link-3").setParentId(lastId).build());
    assertOneLine(accr("check", cycle.resolve("link-3").toString()), 3, "is a cycle");
  }

  /** A copy of a chain of the current version, its links side by side. */
  private Path chain(String name) throws IOException {
    String stored = name.startsWith("counter-chain") ? "counter-chain" : name;
    Path from = TestSets.CHECKED_IN.resolve("v" + dev.accr.image.ImageKind.VERSION_CURRENT)
        .resolve(stored);
    Path to = tmp.resolve(name);
    for (int i = 1; Files.isDirectory(from.resolve("link-" + i)); i++) {
      ImageEdits.copy(from.resolve("link-" + i), to.resolve("link-" + i));
    }
    return to;
  }

  private static void deleteLink(Path link) throws IOException {
    try (java.util.stream.Stream<Path> files = Files.list(link)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(link);
  }

  private static byte[] checkpointId(Path set) throws IOException {
    return dev.accr.engine.ImageSet.read(set).id().bytes();
  }

  @Test
  void aKfdQueueWithARingOfThreeSlotsIsRefused() throws IOException {
    Path dir = set("kfd-train");
    ImageEdits.rewrite(dir.resolve("kfd-queues-1000.img"), e -> setField(e, 0, 6, 3));
    assertRefused(dir, "kfd-queues-1000.img");
  }

  @Test
  void anNpuSaveAreaOfPartPagesIsRefused() throws IOException {
    Path dir = set("npu-infer");
    ImageEdits.rewrite(dir.resolve("npu-devices-1000.img"), e -> setField(e, 0, 4, 4097));
    assertRefused(dir, "npu-devices-1000.img");
  }

  @Test
  void anNpuSaveAreaOutsideTheSaveSlotsIsRefused() throws IOException {
    Path dir = set("npu-infer");
    ImageEdits.rewrite(dir.resolve("npu-devices-1000.img"), e -> setField(e, 0, 3, 1L << 63));
    assertRefused(dir, "npu-devices-1000.img");
  }

  @Test
  void aPagemapChunkInAMissingPagesFileIsRefused() throws IOException {
    Path dir = set("counter");
    ImageEdits.rewrite(dir.resolve("pagemap-1000.img"), e -> setField(e, 1, 1, 99));
    assertRefused(dir, "pagemap-1000.img");
  }

  @Test
  void aPluginFileCopiedOverAnotherOfTheSameSetIsRefused() throws IOException {
    Path dir = set("kfd-train");
    ImageEdits.copyOver(dir.resolve("kfd-bos-1000.img"), dir.resolve("kfd-events-1000.img"));
    CliRun r = assertRefused(dir, "kfd-events-1000.img");
    assertTrue(r.err().contains("kfd-bos-1000.img"), r.err());
  }

  @Test
  void aFifoNamedInventoryDoesNotHangCheckOrShow() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("fifo"));
    Path fifo = dir.resolve("inventory.img");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      assertOneLine(accr("check", dir.toString()), 3, "not a regular file");
      assertOneLine(accr("show", fifo.toString()), 3, "not a regular file");
      assertOneLine(accr("show", "/dev/zero"), 3, "not a regular file");
    });
  }

  @Test
  void encodeRefusesJsonWithAHundredMegabyteStringBeforeReadingIt() throws IOException {
    Path json = tmp.resolve("big.json");
    try (OutputStream out = Files.newOutputStream(json)) {
      out.write("{\"file\": \"".getBytes(StandardCharsets.US_ASCII));
      byte[] block = "a".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < 100; i++) {
        out.write(block);
      }
      out.write("\"}".getBytes(StandardCharsets.US_ASCII));
    }
    assertOneLine(accr("encode", json.toString(), "-o", tmp.resolve("big.img").toString()), 3,
        "file size");
    assertTrue(Files.notExists(tmp.resolve("big.img")));
  }

  @Test
  void aHugeFileNameWithControlCharactersIsQuotedShortInOneLine() throws IOException {
    Path dir = set("counter");
    String name = "x\n\u0000".repeat(1_000_000);
    ImageEdits.rewrite(dir.resolve("inventory.img"), e -> {
      try {
        return List.of(InventoryEntry.parseFrom(e.getFirst()).toBuilder()
            .addFiles(ImageFileRef.newBuilder().setName(name)).build().toByteString());
      } catch (InvalidProtocolBufferException ex) {
        throw new IllegalStateException(ex);
      }
    });
    CliRun r = assertOneLine(accr("check", dir.toString()), 3, "illegal file name");
    assertTrue(r.err().length() < 1000, "error of " + r.err().length() + " characters");
    assertTrue(r.err().contains("x\\x0a\\x00"), r.err());
  }

  private static CliRun assertRefused(Path dir, String file) {
    CliRun r = assertOneLine(accr("check", dir.toString()), 3, file);
    return r;
  }

  static CliRun assertOneLine(CliRun r, int code, String expected) {
    assertEquals(code, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains(expected), r.err());
    return r;
  }

  /** Entry {@code index} with varint field {@code field} set to {@code value}. */
  static List<ByteString> setField(List<ByteString> entries, int index, int field, long value) {
    try {
      UnknownFieldSet fields = UnknownFieldSet.parseFrom(entries.get(index));
      UnknownFieldSet changed = UnknownFieldSet.newBuilder(fields).clearField(field)
          .addField(field, UnknownFieldSet.Field.newBuilder().addVarint(value).build()).build();
      List<ByteString> out = new ArrayList<>(entries);
      out.set(index, changed.toByteString());
      return out;
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
