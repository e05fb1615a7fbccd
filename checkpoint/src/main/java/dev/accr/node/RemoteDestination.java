package dev.accr.node;

import dev.accr.engine.ImageSet;
import dev.accr.engine.SetDestination;
import dev.accr.image.CheckpointId;
import dev.accr.image.ImageSetWriter;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.ReceiveSetRequest;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Sets written into another node's image store ({@code dump --to-node}, and the rounds of a
 * migration): each set is streamed there as it is produced. The parent of an incremental set
 * is one this destination sent before, known by its name and id without reading it.
 */
final class RemoteDestination implements SetDestination {
  private final NodeClient client;
  private final Function<Path, ReceiveSetRequest.Builder> naming;
  private final int streams;
  private ImageSet parent;
  private RemoteSetSender last;
  private CheckpointId lastId;

  /**
   * Sets sent to {@code client}, each named there by the request {@code naming} makes, over one
   * connection.
   */
  RemoteDestination(NodeClient client, Function<Path, ReceiveSetRequest.Builder> naming) {
    this(client, naming, 1);
  }

  /** As above, each set over up to {@code streams} connections (a dump's writer threads). */
  RemoteDestination(NodeClient client, Function<Path, ReceiveSetRequest.Builder> naming,
      int streams) {
    this.client = client;
    this.naming = naming;
    this.streams = streams;
  }

  @Override
  public synchronized ImageSetWriter open(Path dir) {
    CheckpointId id = CheckpointId.random();
    ReceiveSetRequest request = naming.apply(dir)
        .setCheckpointId(com.google.protobuf.ByteString.copyFrom(id.bytes())).build();
    last = RemoteSetSender.open(client, request, streams);
    lastId = id;
    return ImageSetWriter.remote(dir, id, last);
  }

  /** The sender of the last set opened, or null. */
  synchronized RemoteSetSender last() {
    return last;
  }

  /** The id of the last set opened, or null. */
  synchronized CheckpointId lastId() {
    return lastId;
  }

  /** The next set's parent: the set {@code dir} with id {@code id}, sent before. */
  synchronized void parentIs(Path dir, CheckpointId id, int pid) {
    parent = ImageSet.known(dir, id, InventoryEntry.newBuilder().setRootPid(pid).build());
  }

  @Override
  public synchronized ImageSet parent(Path dir) {
    return parent != null && parent.dir().equals(dir) ? parent : null;
  }
}
