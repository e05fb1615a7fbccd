package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkFileWriter;
import dev.accr.image.Compression;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.InventoryEntry;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A node receiving an image set from a sender that stops sending mid-set but keeps its
 * connections open (a hung node): over its UNIX socket (two streams) as over TLS, the set is
 * dropped once nothing came for the idle limit, nothing of it is left, and the node logs why in
 * one line. A sender that only pauses, with one of its streams unused for longer than the limit,
 * is not dropped.
 */
class SetReceiveIdleTest {
  private static final Duration IDLE = Duration.ofMillis(1500);
  private static final int CHUNK = 256 << 10;

  private static final Queue<String> log = new ConcurrentLinkedQueue<>();
  private static Path work;
  private static Path root;
  private static RunDirectory run;
  private static Node node;
  private static NodeServer server;
  private static TlsIdentity client;
  private static String tlsAddress;

  @BeforeAll
  static void start() throws IOException {
    work = Files.createTempDirectory(Path.of("/tmp"), "accr-idle-");
    root = Files.createDirectories(work.resolve("root"));
    run = new RunDirectory(Files.createDirectories(work.resolve("run")));
    TlsDirectory tls = new TlsDirectory(Files.createDirectory(work.resolve("tls"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
    CertificateAuthority ca = CertificateAuthority.openOrCreate(tls);
    ca.issueNode("a", List.of(), 1);
    ca.issueNode("b", List.of(), 1);
    client = TlsIdentity.load(tls, "a");
    Registry registry = Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
    node = new Node("b", registry.topologies().load("cpu-only"), registry);
    server = NodeServer.bind(new NodeService(node, ImageRoot.open(root), () -> {}),
        run.socket("b"), TcpListener.tls(new InetSocketAddress(
            InetAddress.getLoopbackAddress(), 0), TlsIdentity.load(tls, "b")),
        ServerLimits.defaults().withSenderIdleTimeout(IDLE).withLog(log::add));
    server.start();
    tlsAddress = "b@127.0.0.1:" + ((InetSocketAddress) server.tcpAddress()).getPort();
  }

  @AfterAll
  static void stop() throws IOException {
    server.close();
    node.close();
    DirectoryTrees.delete(work);
  }

  private static RemoteSetSender open(String way, Path target, CheckpointId id) {
    NodeClient receiver = way.equals("tls") ? NodeClient.of(tlsAddress, run, client)
        : NodeClient.of("b", run);
    RemoteSetSender sender = RemoteSetSender.open(receiver, RemoteSetSender.request(id)
        .setDir(target.toString()).build(), 2);
    assertEquals(way.equals("tls") ? 1 : 2, sender.streams());
    return sender;
  }

  private static void chunk(ChunkFileWriter w, Random random) throws IOException {
    byte[] bytes = new byte[CHUNK];
    random.nextBytes(bytes);
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    w.append(Compression.Codec.NONE, CHUNK, (int) crc.getValue(),
        ByteBuffer.allocateDirect(CHUNK).put(bytes).flip());
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tls"})
  void aSenderThatStopsMidSetIsDroppedAfterTheIdleLimitAndNothingIsLeft(String way)
      throws Exception {
    Path target = root.resolve("hung-" + way);
    CheckpointId id = CheckpointId.random();
    Random random = new Random(1);
    try (RemoteSetSender sender = open(way, target, id)) {
      ChunkFileWriter w = ChunkFileWriter.create(sender, ImageKind.PAGES.fileName(1),
          ImageKind.PAGES, id);
      chunk(w, random);
      chunk(w, random);
      long stopped = System.nanoTime();
      assertEquals(1, leftovers(target), () -> "the set being written: " + list());
      // The sender hangs here, its connections open.
      for (int i = 0; i < 1500 && leftovers(target) > 0; i++) {
        Thread.sleep(10);
      }
      long dropped = System.nanoTime() - stopped;
      assertEquals(0, leftovers(target), () -> "nothing left: " + list());
      assertTrue(dropped >= IDLE.toNanos() - Duration.ofMillis(100).toNanos(),
          "not before the idle limit: " + dropped / 1_000_000 + " ms");
      String line = awaitLog("hung-" + way);
      assertTrue(line.matches("\\S+ dropped the set \\S*hung-" + way + " from \\S+: the sender"
          + " sent nothing for 1\\.5 s"), line);
      // The sender, woken up, cannot go on with the set.
      assertThrows(IOException.class, () -> {
        chunk(w, random);
        w.finish();
        sender.commit(inventory());
      });
    }
    assertEquals(0, leftovers(target), () -> "nothing left: " + list());
  }

  @Test
  void aSenderThatPausesBelowTheLimitIsNotDroppedThoughAStreamStaysUnused() throws Exception {
    Path target = root.resolve("paused");
    CheckpointId id = CheckpointId.random();
    Random random = new Random(2);
    long start = System.nanoTime();
    try (RemoteSetSender sender = open("unix", target, id)) {
      // One writer thread: one of the two streams carries nothing until the commit ends it.
      ChunkFileWriter w = ChunkFileWriter.create(sender, ImageKind.PAGES.fileName(1),
          ImageKind.PAGES, id);
      while (System.nanoTime() - start < IDLE.toNanos() * 3 / 2) {
        chunk(w, random);
        Thread.sleep(IDLE.toMillis() / 5);
      }
      w.finish();
      EntryImageCodec.write(sender, ImageKind.CORE.fileName(1), ImageKind.CORE, id,
          List.of(CoreEntry.newBuilder().setPid(1).build()));
      sender.commit(inventory());
      assertEquals(sender.bytesSent(), sender.reply().getBytesReceived());
    }
    assertTrue(Files.isRegularFile(target.resolve(ImageKind.INVENTORY.fileName())));
    assertTrue(log.stream().noneMatch(l -> l.contains("paused")), log.toString());
  }

  private static InventoryEntry.Builder inventory() {
    return InventoryEntry.newBuilder().setRootPid(1)
        .setFormatVersion(ImageKind.VERSION_CURRENT);
  }

  private static String awaitLog(String part) throws InterruptedException {
    for (int i = 0; i < 500 && log.stream().noneMatch(l -> l.contains(part)); i++) {
      Thread.sleep(10);
    }
    List<String> lines = log.stream().filter(l -> l.contains(part)).toList();
    assertEquals(1, lines.size(), "one line: " + log);
    return lines.getFirst();
  }

  /** The target and its temporary directory, whichever exist. */
  private static long leftovers(Path target) {
    String name = target.getFileName().toString();
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> p.getFileName().toString().contains(name)).count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<Path> list() {
    try (Stream<Path> s = Files.list(root)) {
      return s.toList();
    } catch (IOException e) {
      return List.of();
    }
  }
}
