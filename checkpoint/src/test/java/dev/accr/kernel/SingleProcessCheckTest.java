package dev.accr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.accr.engine.DumpOptions;
import dev.accr.testkit.Scenarios;

import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What makes a process more than a lone process; a pre-dump takes such a process with its
 * tree.
 */
class SingleProcessCheckTest {
  @TempDir Path tmp;
  private final Node node = ScriptedWorkload.node(new ScriptedWorkload(p -> {}, p -> false));

  @AfterEach
  void close() {
    node.close();
  }

  private SimProcess lone() {
    SimProcess p = node.create("scripted", List.of(), tmp, 0);
    p.files().open("f", FileView.O_WRITE | FileView.O_CREATE);
    p.memory().mapAnonymous(0x1000_0000L, MemoryView.PAGE_SIZE, Prot.RW, "heap");
    return p;
  }

  @Test
  void aLoneProcessPassesAndEachKindOfSharingIsNamed() {
    SimProcess p = lone();
    assertNull(SingleProcessCheck.reason(p));

    SimProcess child = node.process(p.fork());
    assertEquals("it has child processes [" + child.pid() + "]", SingleProcessCheck.reason(p));
    assertEquals("it is a child of process " + p.pid(), SingleProcessCheck.reason(child));

    SimProcess piped = lone();
    int[] fds = piped.files().pipe();
    assertEquals("fd 1 is pipe:[" + ((PipeEnd) piped.files().describe(fds[0])).pipe().id()
        + "] (read end)", SingleProcessCheck.reason(piped));

    SimProcess mapped = lone();
    mapped.memory().mapShared(0x2000_0000L, MemoryView.PAGE_SIZE, Prot.RW, "shm");
    assertEquals("mapping 20000000-20001000 rw- shm is shared memory",
        SingleProcessCheck.reason(mapped));

    SimProcess other = lone();
    lone().files().getFd(other.pid(), 0);
    assertEquals("fd 0 (" + tmp.resolve("f").toAbsolutePath() + ") is shared with another"
        + " descriptor", SingleProcessCheck.reason(other));
  }

  @Test
  void aPreDumpOfAProcessWithAChildSavesBothAndLeavesThemAsTheyWere() throws Exception {
    SimProcess p = lone();
    int child = p.fork();
    Path set = tmp.resolve("set");
    new dev.accr.engine.Dumper(node, Scenarios.plugins(node)).preDump(p.pid(), set,
        DumpOptions.defaults(), dev.accr.image.ProgressListener.NONE);
    assertEquals(java.util.Set.of(p.pid(), child),
        dev.accr.engine.ImageSet.read(set).processes().keySet());
    assertEquals(SimProcess.State.NEW, p.state());
    assertEquals(List.of(child), p.lineage().children());
  }
}
