package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.proto.PostCopyFile;
import dev.accr.proto.PostCopyIndex;
import dev.accr.proto.PostCopyUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The units of a post-copy index as the target numbers them: a tree's processes each with their
 * range of host units, then the bulk files' chunks; a malformed index (eager units that are not
 * host units, or out of order) is refused with a usage error.
 */
class PostCopyUnitsTest {
  /** Host units of pids 10, 10, 11, 12 (one page each), then one file of two chunks. */
  private static PostCopyIndex.Builder tree() {
    PostCopyIndex.Builder b = PostCopyIndex.newBuilder().setPid(10);
    int page = 0;
    for (int pid : new int[] {0, 10, 11, 12}) {
      b.addHostUnits(PostCopyUnit.newBuilder().setPid(pid).addVaddr(0x1000L * ++page)
          .addPages(1));
    }
    return b.addFiles(PostCopyFile.newBuilder().setPlugin("kfd").setWhat("vram").setId(1)
        .addKeys(0).addLengths(4096).addKeys(4096).addLengths(4096));
  }

  @Test
  void aTreesUnitsAreNumberedHostFirstEachProcessWithItsRange() {
    PostCopyUnits units = new PostCopyUnits(tree().setEagerUnits(1).addMoreEagerUnits(2)
        .addMoreEagerUnits(3).build());
    assertEquals(6, units.count());
    assertEquals(2, units.hostUnitsOf(10).size());
    assertEquals(2, units.firstOf(11));
    assertEquals(3, units.firstOf(12));
    assertTrue(units.serves(12) && !units.serves(13));
    assertEquals(4, units.file("kfd", "vram", 1).first());
  }

  @Test
  void eagerUnitsThatAreNotHostUnitsOrOutOfOrderAreRefused() {
    for (List<Integer> more : List.of(List.of(4), List.of(3, 2), List.of(1), List.of(-1))) {
      AccrException e = assertThrows(AccrException.class, () -> new PostCopyUnits(tree()
          .setEagerUnits(2).addAllMoreEagerUnits(more).build()), more.toString());
      assertEquals(AccrException.USAGE, e.exitCode(), e.getMessage());
      assertTrue(e.getMessage().contains("eager unit"), e.getMessage());
    }
  }
}
