package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.accr.engine.ImageSet;
import dev.accr.proto.BoChange;
import dev.accr.proto.PageCounts;
import dev.accr.proto.SetDiff;
import dev.accr.proto.VmaChange;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code accr diff} on two checked-in checkpoints of one kfd-train process. */
class DiffCommandTest {
  private static final Path EARLIER = InspectCommandTest.set("kfd-train");
  private static final Path LATER = InspectCommandTest.set("kfd-train-later");

  private static SetDiff json(Path a, Path b) throws IOException {
    CliRun r = accr("diff", a.toString(), b.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    SetDiff.Builder d = SetDiff.newBuilder();
    JsonFormat.parser().merge(r.out(), d);
    return d.build();
  }

  @Test
  void textOfTwoKnownCheckpointsIsTheExpectedOneInFull() throws IOException {
    CliRun r = accr("diff", EARLIER.toString(), LATER.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(InspectCommandTest.known("diff-kfd-train.txt"), r.out());
  }

  @Test
  void pageCountsAccountForEveryStoredPageOfBothSets() throws IOException {
    SetDiff d = json(EARLIER, LATER);
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
    assertTrue(d.getBosList().stream().anyMatch(b -> b.getPages().getChanged() > 0),
        "training changed the weights in VRAM");
    assertTrue(d.getStateChangesList().stream().anyMatch(c -> c.contains("read_index")));
  }

  @Test
  void aSetComparedWithItselfHasNoChanges() throws IOException {
    SetDiff d = json(LATER, LATER);
    for (VmaChange v : d.getVmasList()) {
      assertEquals(PageCounts.newBuilder().setSame(v.getPages().getSame()).build(), v.getPages());
      assertEquals("", v.getStatus());
    }
    for (BoChange b : d.getBosList()) {
      assertEquals(PageCounts.newBuilder().setSame(b.getPages().getSame()).build(), b.getPages());
    }
    assertTrue(d.getBosList().stream().anyMatch(b -> b.getPages().getSame() > 0));
    assertEquals(0, d.getStateChangesCount(), d.getStateChangesList().toString());
  }

  @Test
  void setsOfDifferentProcessesSaySo() throws IOException {
    SetDiff d = json(InspectCommandTest.set("counter"), LATER);
    assertTrue(d.getStateChangesList().stream().anyMatch(c -> c.contains("not the same process")),
        d.getStateChangesList().toString());
  }
}
