package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import dev.accr.engine.ImageSet;
import dev.accr.proto.PageCounts;
import dev.accr.proto.SetDiff;
import dev.accr.proto.VmaChange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code accr diff} on two checked-in checkpoints of one kfd-train process, and on the npu
 * sets of two format versions. The kfd report is read through its descriptor: the core knows
 * no device message.
 */
class DiffCommandTest {
  private static final Path EARLIER = InspectCommandTest.set("kfd-train");
  private static final Path LATER = InspectCommandTest.set("kfd-train-later");

  private static SetDiffs.Comparison diff(Path a, Path b) throws IOException {
    return SetDiffs.of(a, b, dev.accr.plugin.PluginHost.of(dev.accr.kernel.Registry.load(java.util.List.of()).plugins()));
  }

  /** The page counts of every buffer object in the kfd report. */
  private static List<Message> boPages(SetDiffs.Comparison c) {
    Message kfd = c.reports().stream().filter(r -> r.plugin().equals("kfd")).findFirst()
        .orElseThrow().report().details();
    @SuppressWarnings("unchecked")
    List<Message> bos = (List<Message>) kfd.getField(kfd.getDescriptorForType()
        .findFieldByName("bos"));
    assertTrue(!bos.isEmpty(), "buffer objects compared");
    return bos.stream().map(b -> (Message) b.getField(b.getDescriptorForType()
        .findFieldByName("pages"))).toList();
  }

  private static long count(Message pages, String field) {
    return (Long) pages.getField(pages.getDescriptorForType().findFieldByName(field));
  }

  @Test
  void textOfTwoNpuCheckpointsIsTheExpectedOneInFull() throws IOException {
    CliRun r = accr("diff", InspectCommandTest.set("npu-infer").toString(),
        TestSets.CHECKED_IN.resolve("v2/npu-infer").toString());
    assertEquals(1, r.code(), "the sets differ, like diff(1): " + r.err());
    assertEquals(InspectCommandTest.known("diff-npu-infer.txt"), r.out());
  }

  @Test
  void jsonPrintsEachPluginsReportAsAnObjectOfItsType() throws IOException {
    CliRun r = accr("diff", EARLIER.toString(), LATER.toString(), "--json");
    assertEquals(1, r.code(), r.err());
    assertTrue(r.out().contains("\"@type\": \"type.googleapis.com/accr.kfd.KfdDiff\""), r.out());
    assertTrue(r.out().contains("\"gpuVa\""), r.out());
  }

  @Test
  void textOfTwoKnownCheckpointsIsTheExpectedOneInFull() throws IOException {
    CliRun r = accr("diff", EARLIER.toString(), LATER.toString());
    assertEquals(1, r.code(), r.err());
    assertEquals("", r.err(), "one program: no warning");
    assertEquals(InspectCommandTest.known("diff-kfd-train.txt"), r.out());
  }

  @Test
  void pageCountsAccountForEveryStoredPageOfBothSets() throws IOException {
    SetDiffs.Comparison comparison = diff(EARLIER, LATER);
    SetDiff d = comparison.diff();
    long before = 0;
    long after = 0;
    for (VmaChange v : d.getVmasList()) {
      PageCounts c = v.getPages();
      before += c.getChanged() + c.getRemoved() + c.getSame();
      after += c.getChanged() + c.getAdded() + c.getSame();
    }
    assertEquals(ImageSet.read(EARLIER).stats().getPagesWritten(), before);
    assertEquals(ImageSet.read(LATER).stats().getPagesWritten(), after);
    assertTrue(d.getVmasList().stream().anyMatch(v -> v.getPages().getChanged() > 0));
    assertTrue(boPages(comparison).stream().anyMatch(p -> count(p, "changed") > 0),
        "training changed the weights in VRAM");
    assertTrue(d.getStateChangesList().stream().anyMatch(c -> c.contains("read_index")));
  }

  @Test
  void aSetComparedWithItselfHasNoChanges() throws IOException {
    SetDiffs.Comparison c = diff(LATER, LATER);
    SetDiff d = c.diff();
    for (VmaChange v : d.getVmasList()) {
      assertEquals(PageCounts.newBuilder().setSame(v.getPages().getSame()).build(), v.getPages());
      assertEquals("", v.getStatus());
    }
    for (Message p : boPages(c)) {
      assertEquals(0, count(p, "changed") + count(p, "added") + count(p, "removed"), p.toString());
    }
    assertTrue(boPages(c).stream().anyMatch(p -> count(p, "same") > 0));
    assertEquals(0, d.getStateChangesCount(), d.getStateChangesList().toString());
  }

  @Test
  void aSetComparedWithItselfExitsZeroWithoutWarning() {
    CliRun r = accr("diff", LATER.toString(), LATER.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
  }

  @Test
  void setsOfDifferentProgramsDifferAndWarn() {
    CliRun r = accr("diff", InspectCommandTest.set("counter").toString(), LATER.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("accr: warning: the sets are of different programs: 'counter")
        && r.err().contains("' and 'kfd-train"), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  @Test
  void setsOfDifferentProcessesSaySo() throws IOException {
    SetDiff d = diff(InspectCommandTest.set("counter"), LATER).diff();
    assertTrue(d.getStateChangesList().stream().anyMatch(c -> c.contains("not the same process")),
        d.getStateChangesList().toString());
  }
}
