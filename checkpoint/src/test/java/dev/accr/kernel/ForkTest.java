package dev.accr.kernel;

import static dev.accr.api.FileView.O_CREATE;
import static dev.accr.api.FileView.O_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceFile;
import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fork as POSIX has it: private memory copied, shared memory and descriptions shared. */
class ForkTest {
  private static final long PRIVATE = 0x1000_0000L;
  private static final long SHARED = 0x2000_0000L;
  private static final long DEVICE = 0x3000_0000L;
  private static final int PAGE = MemoryView.PAGE_SIZE;

  @TempDir Path tmp;
  private final Node node = ScriptedWorkload.node(new ScriptedWorkload(p -> {
    p.memory().mapAnonymous(PRIVATE, 4L * PAGE, Prot.RW, "private");
    p.memory().mapShared(SHARED, 2L * PAGE, Prot.RW, "shared");
  }, p -> false));

  @AfterEach
  void close() {
    node.close();
  }

  private SimProcess parent() {
    return node.create("scripted", List.of(), tmp, 0);
  }

  @Test
  void theChildHasACopyOfRegistersAndPrivateMemoryAndTheParentsGroupAndSession() {
    SimProcess parent = parent();
    parent.thread(0).setGpr(5, 42);
    parent.thread(0).setPc(7);
    parent.addThread().setGpr(1, 9);
    parent.memory().writeLong(PRIVATE + PAGE, 11);

    SimProcess child = node.process(parent.fork());

    assertNotEquals(parent.pid(), child.pid());
    assertEquals(SimProcess.State.NEW, child.state(), "a child starts when the fork's step ends");
    assertEquals(parent.pid(), child.ppid());
    assertEquals(parent.pgid(), child.pgid());
    assertEquals(parent.sid(), child.sid());
    assertEquals(List.of(child.pid()), parent.lineage().children());
    assertEquals(2, child.threadCount());
    assertEquals(42, child.thread(0).gpr(5));
    assertEquals(7, child.thread(0).pc());
    assertEquals(9, child.thread(1).gpr(1));
    assertEquals(child.pid(), child.thread(0).tid());
    assertEquals(11, child.memory().readLong(PRIVATE + PAGE));

    child.memory().writeLong(PRIVATE + PAGE, 12);
    child.thread(0).setGpr(5, 43);
    assertEquals(11, parent.memory().readLong(PRIVATE + PAGE), "private memory is a copy");
    assertEquals(42, parent.thread(0).gpr(5));
  }

  @Test
  void sharedMemoryIsOneSetOfFramesCountedOnce() {
    SimProcess parent = parent();
    parent.memory().writeLong(PRIVATE, 1);
    parent.memory().writeLong(SHARED, 1);
    SimProcess child = node.process(parent.fork());

    child.memory().writeLong(SHARED + 8, 2);
    parent.memory().writeLong(SHARED + PAGE, 3);
    assertEquals(2, parent.memory().readLong(SHARED + 8));
    assertEquals(3, child.memory().readLong(SHARED + PAGE));
    assertSame(parent.memory().find(SHARED).shared(), child.memory().find(SHARED).shared());

    // One private page each, and two shared pages counted once.
    assertEquals(4, node.memory().residentPages());
    assertEquals(3, parent.memory().residentPages(), "a process's resident size shows both");
    assertEquals(1, child.memory().privatePages());
  }

  @Test
  void sharedMemoryOutlivesTheProcessThatMappedItWhileAnotherMapsIt() {
    SimProcess parent = parent();
    parent.memory().writeLong(SHARED, 5);
    SimProcess child = node.process(parent.fork());
    SharedMemory shm = child.memory().find(SHARED).shared();
    assertEquals(2, shm.holders());

    parent.memory().unmap(SHARED, 2L * PAGE);
    assertEquals(5, child.memory().readLong(SHARED), "unmapping one mapping keeps the contents");
    assertEquals(1, shm.holders());
    child.memory().unmap(SHARED, 2L * PAGE);
    assertEquals(0, shm.holders());
    assertEquals(0, node.memory().residentPages(), "the last mapping freed the frames");
  }

  @Test
  void descriptorsAreInheritedSharingTheOpenFileDescription() {
    SimProcess parent = parent();
    int fd = parent.files().open("out", O_WRITE | O_CREATE);
    parent.files().write(fd, new byte[3]);
    SimProcess child = node.process(parent.fork());

    assertEquals(parent.files().describe(fd).id(), child.files().describe(fd).id());
    child.files().write(fd, new byte[4]);
    assertEquals(7, parent.files().position(fd), "one position for both");
    child.files().close(fd);
    parent.files().write(fd, new byte[1]); // still open in the parent
    assertEquals(8, parent.files().position(fd));
  }

  @Test
  void deviceFilesAndDeviceMappingsAreNotInherited() {
    SimProcess parent = parent();
    FakeDevice device = new FakeDevice();
    int fd = parent.files().addDevice(device);
    parent.memory().map(DEVICE, PAGE, Prot.RW, Vma.Kind.DEVICE, "vram", "/dev/fake", 0);
    SimProcess child = node.process(parent.fork());

    assertThrows(AccrException.class, () -> child.files().describe(fd));
    assertNull(child.memory().find(DEVICE));
    assertTrue(child.files().devices().isEmpty());
    child.close();
    assertFalse(device.closed, "the child never held it");
    parent.close();
    assertTrue(device.closed);
  }

  @Test
  void aForkOverTheMemoryLimitIsRefusedAndLeavesNoChild() {
    try (Node small = new Node("small", node.registry().topologies().load("cpu-only"),
        node.registry(), NodeLimits.defaults().withMemoryBytes(7L * PAGE))) {
      SimProcess parent = small.create("scripted", List.of(), tmp, 0);
      for (int i = 0; i < 4; i++) {
        parent.memory().writeLong(PRIVATE + (long) i * PAGE, i + 1);
      }
      AccrException e = assertThrows(AccrException.class, parent::fork);
      assertEquals(AccrException.FAILED, e.exitCode());
      assertTrue(e.getMessage().startsWith("fork of " + parent.pid() + " refused: it needs"),
          e.getMessage());
      assertEquals(1, small.processes().size());
      assertTrue(parent.lineage().children().isEmpty());
      assertEquals(4, small.memory().residentPages(), "the copy made so far is freed");
    }
  }

  @Test
  void aForkOverTheProcessLimitIsRefused() {
    try (Node tiny = new Node("tiny", node.registry().topologies().load("cpu-only"),
        node.registry(), NodeLimits.defaults().withMaxProcesses(1))) {
      SimProcess alone = tiny.create("scripted", List.of(), tmp, 0);
      AccrException e = assertThrows(AccrException.class, alone::fork);
      assertTrue(e.getMessage().contains("refused: node tiny runs 1 processes"), e.getMessage());
      assertEquals(1, tiny.processes().size());
    }
  }

  /** A device file that notes its close. */
  private static final class FakeDevice implements DeviceFile {
    boolean closed;

    @Override
    public String path() {
      return "/dev/fake";
    }

    @Override
    public void digest(MessageDigest digest) {}

    @Override
    public void close() {
      closed = true;
    }
  }
}
