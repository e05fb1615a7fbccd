package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import dev.accr.image.ImageKind;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.FileEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PipeEntry;
import dev.accr.proto.PipeFileEntry;
import dev.accr.proto.PstreeEntry;
import dev.accr.proto.ShmemEntry;
import dev.accr.proto.VmaEntry;
import dev.accr.testkit.ImageEdits;
import dev.accr.workload.PipeChainWorkload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * pipe-chain stepped inline to many moments — stages blocked on empty pipes, bytes in the
 * pipes, stages exited and not yet reaped — dumped, restored and dumped again: the digest of an
 * uninterrupted run. A damaged tree image is refused (exit code 3 naming the file) leaving
 * nothing, and a pipe a process outside the tree holds refuses the dump (exit code 1).
 */
class PipeChainTreeTest {
  private static final int STAGES = 3;
  @TempDir static Path shared;
  private static String expected;
  private static long rounds;
  /** A set of the running chain: every stage alive, bytes in the pipes. */
  private static Path good;
  private static int root;

  @TempDir Path tmp;

  /** Takes a copy of descriptor {@code args[1]} of process {@code args[0]} (pidfd_getfd). */
  static final class Thief implements Workload {
    @Override
    public String name() {
      return "thief";
    }

    @Override
    public String description() {
      return "holds another process's descriptor";
    }

    @Override
    public String usage() {
      return "PID FD";
    }

    @Override
    public void exec(ProcessView p, List<String> args) {
      p.files().getFd(Integer.parseInt(args.get(0)), Integer.parseInt(args.get(1)));
    }

    @Override
    public boolean step(ProcessView p) {
      return true;
    }
  }

  static Node node() {
    Registry r = Registry.of(List.of(), List.of(), List.of(new PipeChainWorkload(), new Thief()));
    return new Node("chain", r.topologies().load("cpu-only"), r);
  }

  static SimProcess create(Node node, Path dir) {
    return node.create("pipe-chain", List.of("--stages", "" + STAGES, "--steps", "12",
        "--seed", "11", "--mem-mib", "1", "--out", dir.resolve("chain.out").toString()), dir, 0);
  }

  static void dump(Node node, int pid, Path dir) throws IOException {
    new Dumper(node, PluginHost.of(node.registry().plugins())).dump(pid, dir,
        DumpOptions.defaults(), ProgressListener.NONE);
  }

  static SimProcess restore(Node node, Path dir) throws IOException {
    return new Restorer(node, PluginHost.of(node.registry().plugins())).restore(dir,
        RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE),
        ProgressListener.NONE).process();
  }

  static void rounds(Node node, SimProcess p, long n) {
    for (long i = 0; i < n && InlineTree.round(node, p, false); i++) {
      // step on
    }
  }

  @BeforeAll
  static void uninterrupted() throws IOException {
    Files.createDirectories(shared.resolve("a"));
    try (Node node = node()) {
      SimProcess p = create(node, shared.resolve("a"));
      while (InlineTree.round(node, p, false)) {
        rounds++;
      }
      expected = node.waitFor(p.pid());
      Files.createDirectories(shared.resolve("g"));
      p = create(node, shared.resolve("g"));
      root = p.pid();
      rounds(node, p, rounds / 3);
      good = shared.resolve("good");
      dump(node, root, good);
    }
  }

  @Test
  void dumpedAtManyMomentsRestoredAndDumpedAgainEndsWithTheUninterruptedDigest()
      throws IOException {
    boolean[] seen = new boolean[3]; // bytes in a pipe, a blocked stage, a zombie
    for (long at : new long[] {1, 2, rounds / 4, rounds / 2, rounds - 3, rounds - 1}) {
      try (Node node = node()) {
        Path dir = tmp.resolve("m" + at);
        Files.createDirectories(dir);
        SimProcess p = create(node, dir);
        rounds(node, p, at);
        seen[1] |= InlineTree.live(node, p).stream().anyMatch(SimProcess::blocked);
        dump(node, p.pid(), dir.resolve("1"));
        ImageSet first = ImageSet.read(dir.resolve("1"));
        seen[0] |= first.shared().pipes().values().stream().anyMatch(e -> !e.getData().isEmpty());
        seen[2] |= first.processes().values().stream().anyMatch(i -> i.pstree().getZombie());
        assertTrue(node.processes().isEmpty(), "the dump ended the tree");
        SimProcess again = restore(node, dir.resolve("1"));
        rounds(node, again, (rounds - at) / 2);
        if (!InlineTree.live(node, again).isEmpty()) {
          dump(node, again.pid(), dir.resolve("2"));
          again = restore(node, dir.resolve("2"));
        }
        assertEquals(expected, InlineTree.finish(node, again, at % 2 == 0), "dumped at " + at);
        assertEquals(0, node.memory().residentPages());
      }
    }
    assertTrue(seen[0] && seen[1] && seen[2], "moments covered: bytes in a pipe " + seen[0]
        + ", a blocked stage " + seen[1] + ", a zombie " + seen[2]);
  }

  private void assertCorrupt(Path set, String file, String words) throws IOException {
    try (Node node = node()) {
      CorruptImageException e = assertThrows(CorruptImageException.class,
          () -> restore(node, set));
      assertEquals(AccrException.CORRUPT, e.exitCode());
      assertTrue(e.getMessage().contains(file) && e.getMessage().contains(words),
          e.getMessage());
      assertTrue(node.processes().isEmpty());
      assertEquals(0, node.memory().residentPages());
    }
  }

  private Path edited(String name, ImageKind kind, com.google.protobuf.Parser<?> parser,
      UnaryOperator<Object> change) throws IOException {
    Path set = ImageEdits.copy(good, tmp.resolve(name + "-" + System.nanoTime()));
    edit(set, name, kind, parser, change);
    return set;
  }

  @SuppressWarnings("unchecked")
  private static <T extends com.google.protobuf.MessageLite> void edit(Path set, String name,
      ImageKind kind, com.google.protobuf.Parser<?> parser, UnaryOperator<Object> change)
      throws IOException {
    ImageEdits.edit(set, name, kind, (com.google.protobuf.Parser<T>) parser,
        t -> (T) change.apply(t));
  }

  private static int child(int n) {
    return root + n;
  }

  @Test
  void aPstreeWithACycleIsCorrupt() throws IOException {
    assertCorrupt(edited("pstree.img", ImageKind.PSTREE, PstreeEntry.parser(), e -> {
      PstreeEntry p = (PstreeEntry) e;
      return p.getPid() == child(1) ? p.toBuilder().setPpid(child(2)).build()
          : p.getPid() == child(2) ? p.toBuilder().setPpid(child(1)).build() : p;
    }), "pstree.img", "cycle");
  }

  @Test
  void aPpidOutsideTheTreeIsCorrupt() throws IOException {
    assertCorrupt(edited("pstree.img", ImageKind.PSTREE, PstreeEntry.parser(), e -> {
      PstreeEntry p = (PstreeEntry) e;
      return p.getPid() == child(2) ? p.toBuilder().setPpid(4242).build() : p;
    }), "pstree.img", "ppid 4242 is not a process of the tree");
  }

  @Test
  void twoProcessesClaimingOnePidAreCorrupt() throws IOException {
    assertCorrupt(edited("pstree.img", ImageKind.PSTREE, PstreeEntry.parser(), e -> {
      PstreeEntry p = (PstreeEntry) e;
      return p.getPid() == child(2) ? p.toBuilder().setPid(child(1)).build() : p;
    }), "pstree.img", "listed twice");
  }

  @Test
  void aPipeWithAnEndMissingIsCorrupt() throws IOException {
    // Every write end becomes a read end: each pipe has lost its writer.
    assertCorrupt(edited("files.img", ImageKind.FILES, FileEntry.parser(), e -> {
      FileEntry f = (FileEntry) e;
      return f.hasPipe() ? f.toBuilder().setPipe(PipeFileEntry.newBuilder(f.getPipe())
          .setReadEnd(true)).build() : f;
    }), "pipes.img", "an end is missing");
  }

  /** The set with its first pipe grown to {@code capacity} and holding {@code bytes}. */
  private Path withGrownPipe(int capacity, int bytes) throws IOException {
    Path set = ImageEdits.copy(good, tmp.resolve("grown-" + capacity + "-" + bytes));
    ImageEdits.editAll(set, "pipes.img", ImageKind.PIPES, PipeEntry.parser(), all -> {
      List<PipeEntry> out = new java.util.ArrayList<>(all);
      byte[] data = new byte[bytes];
      new java.util.Random(bytes).nextBytes(data);
      out.set(0, out.getFirst().toBuilder().setCapacity(capacity)
          .setData(com.google.protobuf.ByteString.copyFrom(data)).build());
      return out;
    });
    return set;
  }

  @Test
  void aPipeGrownBeyondTheDefaultUpToTheMaximumRestoresWithItsBytesAndSize()
      throws IOException {
    int max = dev.accr.kernel.Pipe.MAX_CAPACITY;
    for (int[] grown : new int[][] {{256 << 10, (64 << 10) + 1}, {max, max}}) {
      Path set = withGrownPipe(grown[0], grown[1]);
      byte[] held = ImageSet.read(set).shared().pipes().values().stream()
          .filter(e -> e.getCapacity() == grown[0]).findFirst().orElseThrow().getData()
          .toByteArray();
      try (Node node = node()) {
        SimProcess p = restore(node, set);
        Path again = tmp.resolve("again-" + grown[0]);
        dump(node, p.pid(), again);
        // Dumped again, the pipe has the size and the bytes the first set gave it.
        PipeEntry pipe = ImageSet.read(again).shared().pipes().values().stream()
            .filter(e -> e.getCapacity() == grown[0]).findFirst().orElseThrow();
        assertTrue(java.util.Arrays.equals(held, pipe.getData().toByteArray()),
            "the " + grown[1] + " bytes came back");
        assertEquals(0, node.memory().residentPages());
      }
    }
  }

  @Test
  void aPipeBeyondTheMaximumIsCorrupt() throws IOException {
    int max = dev.accr.kernel.Pipe.MAX_CAPACITY;
    assertCorrupt(withGrownPipe(max + 1, max + 1), "pipes.img", "capacity=" + (max + 1)
        + " expected buffered<=capacity<=" + max);
    assertCorrupt(withGrownPipe(-1, 0), "pipes.img", "capacity=4294967295");
    assertCorrupt(withGrownPipe(64 << 10, (64 << 10) + 1), "pipes.img", "buffered=65537");
  }

  @Test
  void aSharedMemoryIdReferencedButNotStoredIsCorrupt() throws IOException {
    String mm = ImageKind.MM.fileName(child(1));
    assertCorrupt(edited(mm, ImageKind.MM, MmEntry.parser(), e -> {
      MmEntry m = (MmEntry) e;
      MmEntry.Builder b = m.toBuilder();
      for (int i = 0; i < b.getVmasCount(); i++) {
        VmaEntry v = b.getVmas(i);
        if (v.getShmemId() != 0) {
          b.setVmas(i, v.toBuilder().setShmemId(99));
        }
      }
      return b.build();
    }), mm, "shared memory 99 that shmem.img does not store");
  }

  @Test
  void aSharedMemoryObjectNobodyMapsOrHoldsIsCorrupt() throws IOException {
    Path set = ImageEdits.copy(good, tmp.resolve("unused-shmem"));
    ImageEdits.editAll(set, "shmem.img", ImageKind.SHMEM, ShmemEntry.parser(), all -> {
      List<ShmemEntry> more = new java.util.ArrayList<>(all);
      more.add(ShmemEntry.newBuilder().setId(77).setName("spare").setLength(1L << 30).build());
      return more;
    });
    assertCorrupt(set, "shmem.img", "shared memory 77 is neither mapped nor held");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = RestoreOptions.Lazy.class, names = {"CHECKED", "UNCHECKED"})
  void aLazilyRestoredTreeEndsWithTheUninterruptedDigest(RestoreOptions.Lazy mode)
      throws Exception {
    try (Node node = node()) {
      Restorer.Result r = new Restorer(node, PluginHost.of(node.registry().plugins())).restore(
          good, RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE)
              .withLazy(mode), ProgressListener.NONE);
      assertEquals(STAGES + 1, r.tree().size());
      // Each stage's private pages load on first touch or from the pusher; the counters page
      // every stage maps is in before anything runs.
      for (SimProcess p : r.tree()) {
        assertTrue(p.memory().sharedObjects().stream().allMatch(s -> s.residentPages() > 0),
            "shared memory is restored eagerly: " + p.pid());
      }
      assertEquals(expected, InlineTree.finish(node, r.process(), false));
      LazyRestore.Progress end = r.lazy().await(60_000);
      assertEquals("", end.failure());
      assertTrue(end.pagesTotal() > STAGES, "every stage's private pages: " + end);
      assertTrue(end.pagesFaulted() + end.pagesPushed() <= end.pagesTotal(), end.toString());
      assertEquals(0, node.memory().residentPages());
    }
  }

  @Test
  void aDamagedChunkOfOneStageKillsTheWholeLazilyRestoredTree() throws Exception {
    Path set = ImageEdits.copy(good, tmp.resolve("damaged"));
    // The last stage's pages: its own pages file (each process writes its own files).
    ImageSet images = ImageSet.read(set);
    int last = images.processes().keySet().stream().max(Integer::compare).orElseThrow();
    Path pages;
    try (var files = Files.list(set)) {
      pages = files.filter(f -> f.getFileName().toString().startsWith("pages-"))
          .max(java.util.Comparator.naturalOrder()).orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(pages);
    Files.write(pages, dev.accr.testkit.ImageDamage.flipBit(bytes, bytes.length - 200, 2));
    try (Node node = node()) {
      Restorer.Result r = new Restorer(node, PluginHost.of(node.registry().plugins())).restore(
          set, RestoreOptions.defaults().withStart(RestoreOptions.Start.INLINE)
              .withLazy(RestoreOptions.Lazy.UNCHECKED), ProgressListener.NONE);
      // Nothing steps: the pusher finds the damage and the whole tree dies of it.
      for (SimProcess p : r.tree()) {
        if (images.processes().get(p.pid()).pstree().getZombie()) {
          continue;
        }
        java.util.concurrent.ExecutionException e = assertThrows(
            java.util.concurrent.ExecutionException.class,
            () -> p.exitFuture().get(60, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("checksum"), p.pid() + " (damaged: "
            + last + "): " + e.getCause().getMessage());
      }
      assertTrue(r.lazy().await(60_000).failure().contains("checksum"));
    }
  }

  @Test
  void aPipeHeldOutsideTheTreeRefusesTheDumpAndTheTreeRunsOn() throws IOException {
    try (Node node = node()) {
      Path dir = tmp.resolve("ext");
      Files.createDirectories(dir);
      SimProcess p = create(node, dir);
      rounds(node, p, 3);
      int stage = p.lineage().children().getFirst();
      int fd = node.process(stage).files().descriptions().entrySet().stream()
          .filter(e -> e.getValue() instanceof dev.accr.kernel.PipeEnd).findFirst()
          .orElseThrow().getKey();
      SimProcess thief = node.create("thief", List.of("" + stage, "" + fd), dir, 0);
      AccrException e = assertThrows(AccrException.class,
          () -> dump(node, p.pid(), dir.resolve("set")));
      assertEquals(AccrException.FAILED, e.exitCode());
      assertTrue(e.getMessage().contains("process " + stage) && e.getMessage().contains(
          "process " + thief.pid()) && e.getMessage().contains("pipe:["), e.getMessage());
      assertTrue(!Files.exists(dir.resolve("set")), "no image set");
      node.kill(thief.pid());
      assertEquals(expected, InlineTree.finish(node, p, false), "the tree ran on");
    }
  }
}
