package dev.accr.kernel;

import static dev.accr.api.FileView.PIPE_CAPACITY;
import static dev.accr.api.FileView.WOULD_BLOCK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pipes and socket pairs: bounded, never blocking, end of file when the last writer goes. */
class PipeTest {
  @TempDir Path tmp;
  private final Node node = ScriptedWorkload.node(new ScriptedWorkload(p -> {}, p -> false));

  @AfterEach
  void close() {
    node.close();
  }

  private SimProcess process() {
    return node.create("scripted", List.of(), tmp, 0);
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  @Test
  void anEmptyPipeWouldBlockWhileAWriterIsOpenAndEndsWhenTheLastWriterCloses() {
    SimProcess p = process();
    int[] fds = p.files().pipe();
    byte[] buf = new byte[16];
    assertEquals(WOULD_BLOCK, p.files().read(fds[0], buf, 0, buf.length));

    p.files().write(fds[1], bytes(10, 1));
    assertEquals(4, p.files().read(fds[0], buf, 0, 4));
    assertEquals(6, p.files().read(fds[0], buf, 4, 12));
    assertArrayEquals(bytes(10, 1), Arrays.copyOf(buf, 10));

    SimProcess child = node.process(p.fork()); // a second writer
    p.files().close(fds[1]);
    assertEquals(WOULD_BLOCK, p.files().read(fds[0], buf, 0, 1), "the child still writes");
    child.files().write(fds[1], bytes(1, 7));
    child.close();
    assertEquals(1, p.files().read(fds[0], buf, 0, 16), "bytes written stay after the close");
    assertEquals(0, p.files().read(fds[0], buf, 0, 16), "then end of file");
  }

  @Test
  void aFullPipeTakesWhatFitsThenWouldBlock() {
    SimProcess p = process();
    int[] fds = p.files().pipe();
    byte[] big = bytes(PIPE_CAPACITY + 100, 3);
    assertEquals(PIPE_CAPACITY, p.files().writeSome(fds[1], big, 0, big.length));
    assertEquals(WOULD_BLOCK, p.files().writeSome(fds[1], big, 0, 1));
    AccrException e = assertThrows(AccrException.class, () -> p.files().write(fds[1], new byte[1]));
    assertTrue(e.getMessage().contains("has room for 0 of 1 bytes (use writeSome)"),
        e.getMessage());

    byte[] out = new byte[PIPE_CAPACITY];
    assertEquals(50, p.files().read(fds[0], out, 0, 50));
    assertEquals(50, p.files().writeSome(fds[1], big, PIPE_CAPACITY, 100), "room for 50");
    int n = p.files().read(fds[0], out, 50, PIPE_CAPACITY - 50);
    assertEquals(PIPE_CAPACITY - 50, n);
    assertArrayEquals(Arrays.copyOf(big, PIPE_CAPACITY), out, "FIFO order across the wrap");
    byte[] tail = new byte[50];
    assertEquals(50, p.files().read(fds[0], tail, 0, 50));
    assertArrayEquals(Arrays.copyOfRange(big, PIPE_CAPACITY, PIPE_CAPACITY + 50), tail);
  }

  @Test
  void writingToAPipeWithoutReadersFailsAsEpipe() {
    SimProcess p = process();
    int[] fds = p.files().pipe();
    p.files().close(fds[0]);
    AccrException e = assertThrows(AccrException.class,
        () -> p.files().writeSome(fds[1], new byte[1], 0, 1));
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().startsWith("write: broken pipe"), e.getMessage());
  }

  @Test
  void theWrongEndAndAClosedDescriptorAreBadDescriptors() {
    SimProcess p = process();
    int[] fds = p.files().pipe();
    assertThrows(AccrException.class, () -> p.files().read(fds[1], new byte[1], 0, 1));
    assertThrows(AccrException.class, () -> p.files().write(fds[0], new byte[1]));
    p.files().close(fds[0]);
    assertThrows(AccrException.class, () -> p.files().close(fds[0]));
  }

  @Test
  void aSocketPairCarriesBytesBothWays() {
    SimProcess p = process();
    int[] s = p.files().socketPair();
    p.files().write(s[0], bytes(3, 1));
    p.files().write(s[1], bytes(5, 2));
    byte[] buf = new byte[8];
    assertEquals(5, p.files().read(s[0], buf, 0, 8));
    assertArrayEquals(bytes(5, 2), Arrays.copyOf(buf, 5));
    assertEquals(3, p.files().read(s[1], buf, 0, 8));
    assertArrayEquals(bytes(3, 1), Arrays.copyOf(buf, 3));
    assertEquals(WOULD_BLOCK, p.files().read(s[1], buf, 0, 8));
    p.files().close(s[0]);
    assertEquals(0, p.files().read(s[1], buf, 0, 8), "the peer is gone: end of file");
    assertThrows(AccrException.class, () -> p.files().write(s[1], new byte[1]));
  }

  @Test
  void getFdSharesAnotherProcesssDescription() {
    SimProcess a = process();
    SimProcess b = process();
    int[] fds = a.files().pipe();
    int mine = b.files().getFd(a.pid(), fds[1]);
    assertEquals(a.files().describe(fds[1]).id(), b.files().describe(mine).id());
    b.files().write(mine, bytes(2, 9));
    a.files().close(fds[1]);
    byte[] buf = new byte[4];
    assertEquals(2, a.files().read(fds[0], buf, 0, 4));
    assertEquals(WOULD_BLOCK, a.files().read(fds[0], buf, 0, 4), "b still holds a writer");

    AccrException none = assertThrows(AccrException.class, () -> b.files().getFd(99999, 0));
    assertEquals(AccrException.NOT_FOUND, none.exitCode());
    AccrException bad = assertThrows(AccrException.class, () -> b.files().getFd(a.pid(), 77));
    assertEquals(AccrException.FAILED, bad.exitCode());
  }

  @Test
  void aMemfdMappedInTwoProcessesIsOneSetOfFrames() {
    SimProcess a = process();
    int fd = a.files().memfdCreate("ring", 2L * 4096);
    a.memory().mapMemfd(0x5000_0000L, fd, dev.accr.api.Prot.RW, "ring");
    SimProcess b = process();
    int theirs = b.files().getFd(a.pid(), fd);
    b.memory().mapMemfd(0x6000_0000L, theirs, dev.accr.api.Prot.RW, "ring");
    a.memory().writeLong(0x5000_1000L, 77);
    assertEquals(77, b.memory().readLong(0x6000_1000L));
    assertEquals(1, node.memory().residentPages());

    a.files().close(fd);
    b.files().close(theirs);
    a.close();
    assertEquals(77, b.memory().readLong(0x6000_1000L), "the mapping holds it");
    b.close();
    assertEquals(0, node.memory().residentPages());
    assertThrows(AccrException.class,
        () -> process().memory().mapMemfd(0x5000_0000L, 0, dev.accr.api.Prot.RW, "x"));
    assertFalse(node.processes().isEmpty());
  }
}
