package dev.accr.engine;

import dev.accr.api.BulkReader;
import dev.accr.api.DeviceMemoryServer;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One plugin's device memory servers of the processes of a tree, served as one: the bulk files
 * of each (named per process, as a dump names them) side by side, a chunk read from whichever
 * serves its file.
 */
final class MergedDeviceServer implements DeviceMemoryServer {
  private final List<DeviceMemoryServer> servers = new ArrayList<>();

  /** {@code first}, then {@code second}, served as one; either may be a merge already. */
  static DeviceMemoryServer of(DeviceMemoryServer first, DeviceMemoryServer second) {
    MergedDeviceServer merged = first instanceof MergedDeviceServer m ? m
        : new MergedDeviceServer();
    if (merged != first) {
      merged.servers.add(first);
    }
    merged.servers.add(second);
    return merged;
  }

  @Override
  public List<BulkFile> files() {
    List<BulkFile> all = new ArrayList<>();
    servers.forEach(s -> all.addAll(s.files()));
    return all;
  }

  @Override
  public void read(String what, long id, BulkReader.Chunk chunk, MemorySegment into) {
    for (DeviceMemoryServer s : servers) {
      for (BulkFile f : s.files()) {
        if (f.what().equals(what) && f.id() == id) {
          s.read(what, id, chunk, into);
          return;
        }
      }
    }
    // No process serves that file: the first server refuses it in its own words.
    servers.getFirst().read(what, id, chunk, into);
  }

  @Override
  public void close() {
    RuntimeException failed = null;
    for (DeviceMemoryServer s : servers) {
      try {
        s.close();
      } catch (RuntimeException e) {
        if (failed == null) {
          failed = e;
        } else {
          failed.addSuppressed(e);
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
  }
}
