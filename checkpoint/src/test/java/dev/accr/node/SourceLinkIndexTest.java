package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.proto.PostCopyIndex;
import dev.accr.proto.PostCopyUnit;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The target's end of a post-copy and the index a source sends before its set is committed:
 * the restore begins only once both the index and the committed set are here (in either
 * order), and the process starts only on the source's Go; a link lost before Go fails the
 * restore, so that a source whose dump failed after the index thaws the only copy. An index
 * from an older source, sent after the commit, restores and starts at once.
 */
class SourceLinkIndexTest {
  private static final LinkWatch.Timing SLOW =
      new LinkWatch.Timing(Duration.ofSeconds(1), Duration.ofSeconds(60));
  /** How long something that must not happen is given to happen anyway. */
  private static final long QUIET_MS = 300;

  private DataOutputStream source;
  private SourceLink link;
  private LinkWatch watch;
  private CompletableFuture<Void> reading;
  /** Counted down when the restore begins. */
  private final CountDownLatch restoring = new CountDownLatch(1);
  /** What the restore's wait for Go ended with: null (Go came) or the failure. */
  private final CompletableFuture<IOException> went = new CompletableFuture<>();

  @BeforeEach
  void open() throws IOException {
    PipedInputStream in = new PipedInputStream(1 << 16);
    source = new DataOutputStream(new PipedOutputStream(in));
    DataOutputStream toSource = new DataOutputStream(new ByteArrayOutputStream());
    link = new SourceLink("a", toSource);
    watch = new LinkWatch("test-target", SLOW, toSource, link::breakWith);
    reading = CompletableFuture.runAsync(() -> link.run(new DataInputStream(in), watch, () -> {
      restoring.countDown();
      try {
        link.awaitGo();
        went.complete(null);
      } catch (IOException e) {
        went.complete(e);
      }
    }));
  }

  @AfterEach
  void close() throws Exception {
    source.close();
    watch.close();
    reading.get(10, TimeUnit.SECONDS);
  }

  private void send(PostCopyIndex index) throws IOException {
    PageFrames.writeMessage(source, PageFrames.INDEX, index.toByteArray());
    source.flush();
  }

  private void sendGo() throws IOException {
    source.writeByte(PageFrames.GO);
    source.flush();
  }

  private static PostCopyIndex index(boolean beforeSet) {
    return PostCopyIndex.newBuilder().setPid(1000).setBeforeSet(beforeSet)
        .addHostUnits(PostCopyUnit.newBuilder().setPid(1000).addVaddr(0x10000).addPages(1))
        .build();
  }

  private boolean restoreBegins(long ms) throws InterruptedException {
    return restoring.await(ms, TimeUnit.MILLISECONDS);
  }

  @Test
  void anIndexBeforeTheSetWaitsForTheCommitThenTheStartWaitsForGo() throws Exception {
    send(index(true));
    assertFalse(restoreBegins(QUIET_MS), "restored before the set was committed");
    link.committed();
    assertTrue(restoreBegins(10_000), "the restore did not begin once the set was committed");
    assertThrows(TimeoutException.class, () -> went.get(QUIET_MS, TimeUnit.MILLISECONDS),
        "the process may start before Go");
    sendGo();
    assertEquals(null, went.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aSetCommittedBeforeItsIndexCameIsRestoredWhenTheIndexComes() throws Exception {
    link.committed();
    assertFalse(restoreBegins(QUIET_MS), "restored with no index");
    send(index(true));
    assertTrue(restoreBegins(10_000));
    sendGo();
    assertEquals(null, went.get(10, TimeUnit.SECONDS));
  }

  @Test
  void anIndexFromAnOlderSourceComesAfterTheCommitAndStartsAtOnce() throws Exception {
    send(index(false));
    assertTrue(restoreBegins(10_000), "an index after the commit waits for nothing");
    assertEquals(null, went.get(10, TimeUnit.SECONDS), "no Go comes from an older source");
  }

  @Test
  void aLinkLostBeforeGoFailsTheRestoreSoThatNothingRunsHere() throws Exception {
    send(index(true));
    link.committed();
    assertTrue(restoreBegins(10_000));
    source.close(); // the source's dump failed after the index: it closes the link
    IOException e = went.get(10, TimeUnit.SECONDS);
    assertTrue(e != null && e.getMessage().contains("lost node a"), String.valueOf(e));
  }

  @Test
  void aLinkLostBeforeTheSetWasCommittedRestoresNothing() throws Exception {
    send(index(true));
    source.close();
    reading.get(10, TimeUnit.SECONDS);
    link.committed(); // even a set that completes after the loss is not restored
    assertFalse(restoreBegins(QUIET_MS), "restored for a source that is gone");
  }

  @Test
  void goBeforeAnyIndexBreaksTheLink() throws Exception {
    sendGo();
    reading.get(10, TimeUnit.SECONDS); // the reader stops at the bad frame
    link.committed();
    assertFalse(restoreBegins(QUIET_MS), "restored after a Go out of turn");
  }

  @Test
  void aLinkThatBreaksWhileTheRestoreWaitsForGoEndsTheWait() throws Exception {
    send(index(true));
    link.committed();
    assertTrue(restoreBegins(10_000));
    link.breakWith("silent for 60 s");
    IOException e = went.get(10, TimeUnit.SECONDS);
    assertTrue(e != null && e.getMessage().contains("silent for 60 s"), String.valueOf(e));
  }
}
