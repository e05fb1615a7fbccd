package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.accr.api.AccrException;
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
import dev.accr.proto.ReceiveSetRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An image set sent to a node over several connections (streams) over its UNIX socket, and over
 * one with TLS: committed whole, checked on every stream, and dropped on both sides when one
 * stream carries a bad chunk or is cut; a receiver that knows one connection only gets it all
 * there.
 */
class SetStreamsTest {
  private static final int CHUNK = 256 << 10;
  private static final int CHUNKS = 6;

  private static Path work;
  private static Path root;
  private static RunDirectory run;
  private static Node node;
  private static NodeServer server;
  private static TlsIdentity client;
  private static String tlsAddress;

  @BeforeAll
  static void start() throws IOException {
    work = Files.createTempDirectory(Path.of("/tmp"), "accr-streams-");
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
        ServerLimits.defaults());
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
    NodeClient receiver = switch (way) {
      case "tls" -> NodeClient.of(tlsAddress, run, client);
      case "old" -> NodeClient.of("old", run);
      default -> NodeClient.of("b", run);
    };
    return RemoteSetSender.open(receiver, RemoteSetSender.request(id)
        .setDir(target.toString()).build(), 2);
  }

  /**
   * Writes two pages files at once from two threads (each gets a stream of its own) and an
   * entry file; chunk {@code bad} of pages file {@code badFile} carries a wrong checksum. A
   * failure of either thread is thrown.
   */
  private static long[] writeFiles(RemoteSetSender sender, CheckpointId id, int badFile,
      int bad) throws Exception {
    ChunkFileWriter one = ChunkFileWriter.create(sender, ImageKind.PAGES.fileName(1),
        ImageKind.PAGES, id);
    ChunkFileWriter two = ChunkFileWriter.create(sender, ImageKind.PAGES.fileName(2),
        ImageKind.PAGES, id);
    CompletableFuture<Void> first = new CompletableFuture<>();
    CompletableFuture<Void> second = new CompletableFuture<>();
    Thread.ofPlatform().start(() -> complete(first, () -> chunks(one, 1, badFile, bad)));
    Thread.ofPlatform().start(() -> complete(second, () -> chunks(two, 2, badFile, bad)));
    // The bad file's writer first: its failure says why (the other may only see it broken).
    for (CompletableFuture<Void> f : badFile == 2 ? List.of(second, first)
        : List.of(first, second)) {
      try {
        f.get();
      } catch (java.util.concurrent.ExecutionException e) {
        throw (Exception) e.getCause();
      }
    }
    EntryImageCodec.write(sender, ImageKind.CORE.fileName(1), ImageKind.CORE, id,
        List.of(CoreEntry.newBuilder().setPid(1).build()));
    return new long[] {one.length(), two.length()};
  }

  private static void complete(CompletableFuture<Void> f, Runnable r) {
    try {
      r.run();
      f.complete(null);
    } catch (RuntimeException e) {
      f.completeExceptionally(e);
    }
  }

  private static void chunks(ChunkFileWriter w, int file, int badFile, int bad) {
    Random random = new Random(file);
    ByteBuffer payload = ByteBuffer.allocateDirect(CHUNK);
    byte[] bytes = new byte[CHUNK];
    try {
      for (int i = 0; i < CHUNKS; i++) {
        random.nextBytes(bytes);
        payload.clear().put(bytes).flip();
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        int sum = (int) crc.getValue() ^ (file == badFile && i == bad ? 1 : 0);
        w.append(Compression.Codec.NONE, CHUNK, sum, payload);
      }
      w.finish();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static InventoryEntry.Builder inventory() {
    return InventoryEntry.newBuilder().setRootPid(1)
        .setFormatVersion(ImageKind.VERSION_CURRENT);
  }

  /** Waits for the receiver to drop what it got: nothing left beside the root's other sets. */
  private static void assertNothingLeftFor(Path target) throws InterruptedException {
    for (int i = 0; i < 500 && leftovers(target) > 0; i++) {
      Thread.sleep(20);
    }
    assertEquals(0, leftovers(target), () -> "left in " + root + ": " + list());
  }

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

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tls"})
  void aSetComesOverTwoStreamsOverTheSocketAndOneOverTls(String way) throws Exception {
    Path target = root.resolve("whole-" + way);
    CheckpointId id = CheckpointId.random();
    try (RemoteSetSender sender = open(way, target, id)) {
      assertEquals(way.equals("tls") ? 1 : 2, sender.streams());
      long[] lengths = writeFiles(sender, id, 0, -1);
      sender.commit(inventory());
      assertEquals(sender.bytesSent(), sender.reply().getBytesReceived());
      assertEquals(lengths[0], Files.size(target.resolve(ImageKind.PAGES.fileName(1))));
      assertEquals(lengths[1], Files.size(target.resolve(ImageKind.PAGES.fileName(2))));
    }
    assertTrue(Files.isRegularFile(target.resolve(ImageKind.INVENTORY.fileName())));
    assertTrue(Files.isRegularFile(target.resolve(ImageKind.CORE.fileName(1))));
    assertEquals(1, leftovers(target), () -> "the set alone: " + list());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void aBadChunkOnEitherStreamFailsTheSetAndLeavesNothing(int badFile) throws Exception {
    Path target = root.resolve("bad-" + badFile);
    CheckpointId id = CheckpointId.random();
    try (RemoteSetSender sender = open("unix", target, id)) {
      Exception e = assertThrows(Exception.class, () -> {
        writeFiles(sender, id, badFile, 2);
        sender.commit(inventory());
      });
      // Which stream meets the failure first decides the words; each says the set failed.
      assertTrue(saysTheSetFailed(e, "chunk checksum failed"), e.toString());
    }
    assertNothingLeftFor(target);
  }

  @Test
  void oneStreamCutFailsTheSenderAndLeavesNoSet() throws Exception {
    Path target = root.resolve("cut");
    CheckpointId id = CheckpointId.random();
    try (RemoteSetSender sender = open("unix", target, id)) {
      sender.connections().get(1).connection().close();
      Exception e = assertThrows(Exception.class, () -> {
        writeFiles(sender, id, 0, -1);
        sender.commit(inventory());
      }, "a write on the cut stream, or the commit, fails");
      assertTrue(saysTheSetFailed(e, "lost the connection to node"), e.toString());
    }
    assertNothingLeftFor(target);
  }

  @Test
  void aStreamWithoutItsSetsKeyIsRefused() {
    AccrException e = assertThrows(AccrException.class, () -> NodeClient.of("b", run).call(
        Request.newBuilder().setReceiveSet(ReceiveSetRequest.newBuilder()
            .setJoinKey(ByteString.copyFrom(new byte[16]))).build(),
        dev.accr.image.ProgressListener.NONE));
    assertEquals(AccrException.USAGE, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().contains("no set takes a stream with that key"), e.getMessage());
  }

  @Test
  void aReceiverThatKnowsNoStreamsGetsTheSetOnOneConnection() throws Exception {
    Path socket = run.socket("old");
    Path target = root.resolve("old");
    CheckpointId id = CheckpointId.random();
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(UnixDomainSocketAddress.of(socket));
      // A receiver as nodes were before streams: it reads the request and takes no more.
      CompletableFuture<Response> served = CompletableFuture.supplyAsync(() -> {
        try (SocketChannel ch = listener.accept()) {
          Request request = RequestReader.read(Channels.newInputStream(ch), 1 << 20);
          var out = Channels.newOutputStream(ch);
          Response last = Response.newBuilder().setReceiveSet(new SetReceiver(target,
              CheckpointId.of(request.getReceiveSet().getCheckpointId().toByteArray()),
              new IncomingSets(), Caller.LOCAL).receive(Inbound.of(Channels.newInputStream(ch)),
              1, r -> write(out, r), "old")).build();
          write(out, last);
          return last;
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (RemoteSetSender sender = open("old", target, id)) {
        assertEquals(1, sender.streams());
        writeFiles(sender, id, 0, -1);
        sender.commit(inventory());
      }
      assertTrue(served.join().getReceiveSet().getBytesReceived() > 2L * CHUNKS * CHUNK);
    } finally {
      Files.deleteIfExists(socket);
    }
    assertTrue(Files.isRegularFile(target.resolve(ImageKind.PAGES.fileName(2))));
  }

  private static void write(java.io.OutputStream out, Response r) {
    try {
      r.writeDelimitedTo(out);
      out.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Whether {@code e} says the set failed: with {@code cause}, or as the other streams of the
   * set see it (their connection broken, or the receiver telling them another stream failed).
   */
  private static boolean saysTheSetFailed(Exception e, String cause) {
    String m = String.valueOf(e.getMessage());
    return m.contains(cause) || m.contains("lost the connection") || m.contains("is broken")
        || m.contains("the set failed on another stream");
  }
}
