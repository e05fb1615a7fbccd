package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.CheckpointId;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.ImageSink;
import dev.accr.image.ProgressListener;
import dev.accr.image.RemoteSet;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.InventoryEntry;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.channels.GatheringByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dump into a set that lives on another node writes every file through the set's sink. */
class RemoteSetDumpTest {
  @TempDir Path tmp;

  @Test
  void everyFileOfADumpGoesThroughTheRemoteSet() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", List.of("--mem-mib", "1", "--steps", "5",
        "--out", tmp.resolve("x.out").toString()), tmp, 0);
    Path received = Files.createDirectories(tmp.resolve("received"));
    ImageSink sink = ImageSink.directory(received);
    boolean[] committed = {false};
    RemoteSet remote = new RemoteSet() {
      @Override
      public GatheringByteChannel create(String name) throws IOException {
        return sink.create(name);
      }

      @Override
      public void commit(InventoryEntry.Builder inventory) {
        committed[0] = true;
      }

      @Override
      public void close() {}
    };
    Path named = tmp.resolve("not-here");
    new Dumper(a, Scenarios.plugins(a))
        .writingTo(dir -> ImageSetWriter.remote(dir, CheckpointId.random(), remote))
        .dump(p.pid(), named, DumpOptions.defaults().withLeaveRunning(true),
            ProgressListener.NONE);
    assertTrue(committed[0]);
    for (String file : List.of("pstree.img", "files.img", "core-" + p.pid() + ".img",
        "mm-" + p.pid() + ".img", "pagemap-" + p.pid() + ".img", "pages-1.img")) {
      assertTrue(Files.exists(received.resolve(file)), file + " went through the remote set");
    }
    assertFalse(Files.exists(named), "nothing is written where the set is named locally");
  }
}
