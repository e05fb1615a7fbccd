package dev.accr.image;

import dev.accr.proto.InventoryEntry;
import java.io.IOException;

/**
 * The receiving end of an image set written somewhere else (another node's image store): files
 * go into it as they are produced, and the receiver commits the set atomically, as a local
 * dump renames its directory into place.
 */
public interface RemoteSet extends ImageSink, AutoCloseable {
  /**
   * Has the receiver list the files it got in {@code inventory}, write it and commit the set;
   * returns once the set is in place there.
   */
  void commit(InventoryEntry.Builder inventory) throws IOException;

  /** Abandons the set unless it was committed: the receiver keeps nothing of it. */
  @Override
  void close();
}
