package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.MigrationStepRequest;
import dev.accr.proto.MigrationStepReply;
import dev.accr.proto.PostCopyReply;
import dev.accr.proto.PostCopyRequest;
import dev.accr.proto.ReceiveSetRequest;
import dev.accr.proto.Response;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A node's requests of migrations, as source and as target: {@code migrate} (the source's
 * side, {@link Migration}), the steps a source asks of this node as target ({@link
 * MigrationArea}), image sets received from another node, and the target's end of post-copy
 * connections ({@link SourceLink}).
 */
final class MigrationRequests {
  private static final Logger LOG = Logger.getLogger(NodeService.class.getName());

  private final NodeService service;
  private final PluginHost plugins;
  private final ImageRoot imageRoot;
  /** Post-copy migrations coming here: migration id -> the link to their source. */
  private final Map<String, SourceLink> postCopyLinks = new ConcurrentHashMap<>();
  private volatile LinkWatch.Timing postCopyTiming = LinkWatch.Timing.DEFAULT;
  /** Pre-copy migrations coming here: their rounds, loaded ahead of the stop. */
  private final MigrationStages stages;

  MigrationRequests(NodeService service, PluginHost plugins, ImageRoot imageRoot) {
    this.service = service;
    this.plugins = plugins;
    this.imageRoot = imageRoot;
    this.stages = new MigrationStages(service.node(), plugins);
  }

  /** The rounds of pre-copy migrations loaded ahead of their stop. */
  MigrationStages stages() {
    return stages;
  }

  /** Frees the rounds of every migration loaded ahead: the node stops. */
  void close() {
    stages.closeAll();
  }

  /** {@code accr migrate}: moves a process of this node to another. */
  Response migrate(MigrateRequest r, ProgressListener progress, OperationLog log)
      throws IOException {
    return new Migration(service, plugins, r, progress, log).run();
  }

  /** A step the source of a migration asks of this node, its target. */
  Response step(MigrationStepRequest r, Caller caller, ProgressListener progress)
      throws IOException {
    return MigrationArea.of(imageRoot).step(service, plugins, r, progress,
        service.paths(caller)::checkImage, stages);
  }

  /**
   * Receives an image set another node streams on {@code in} (after its request), into the
   * directory the request names as {@code caller} may name paths here; answers on {@code out}.
   */
  void receive(ReceiveSetRequest r, Caller caller,
      Inbound in, Consumer<Response> out) {
    Response reply;
    try {
      // A sender dumping for a confined client passes the confinement on.
      CallerPaths paths = r.getConfined() ? CallerPaths.of(new Caller(true, caller.address(),
          caller.identity()), imageRoot) : service.paths(caller);
      Path dir = r.getMigration().isEmpty() ? paths.dumpDir(r.getDir())
          : MigrationArea.of(imageRoot).prepare(r.getMigration(), r.getName());
      String shown = r.getMigration().isEmpty() ? paths.show(dir) : r.getName();
      dev.accr.image.CheckpointId id = dev.accr.image.CheckpointId.of(
          r.getCheckpointId().toByteArray());
      boolean round = !r.getMigration().isEmpty();
      boolean arrived = false;
      if (round) {
        stages.receiving(r.getMigration(), true);
      }
      try {
        reply = Response.newBuilder().setReceiveSet(new SetReceiver(dir, id,
            service.incomingSets(), caller).receive(in, r.getStreams(), out, shown)).build();
        arrived = true;
      } finally {
        if (round) {
          stages.receiving(r.getMigration(), false);
          if (arrived && r.getName().matches("r[0-9]+")) {
            stages.arrived(r.getMigration(), dir); // staged after the rounds before it
          } else if (arrived && r.getName().equals(MigrationArea.FINAL)) {
            SourceLink link = postCopyLinks.get(r.getMigration());
            if (link != null) {
              link.committed(); // a post-copy restore waiting for the set begins
            }
          } else if (!arrived) {
            stages.drop(r.getMigration()); // the source's link broke: it gives up
          }
        }
      }
    } catch (AccrException e) {
      reply = service.error(caller, e.exitCode(), e.getMessage(), e, null);
    } catch (IOException | RuntimeException e) {
      reply = service.error(caller, AccrException.FAILED, e.getClass().getSimpleName() + ": "
          + e.getMessage(), e, null);
    }
    out.accept(reply);
  }

  /**
   * Serves the target's end of a post-copy migration on a connection from its source (after
   * its request, before the source freezes the process): answers ready, restores the set as
   * soon as the index has come and the set is committed here, starts the process on the
   * source's Go (after an index sent before the set), then carries the memory the restored
   * process asks for until the lazy restore ends or the connection breaks.
   */
  void postCopy(PostCopyRequest r, Caller caller, InputStream in,
      OutputStream out) throws IOException {
    DataInputStream data = new DataInputStream(
        new BufferedInputStream(in, 256 << 10));
    DataOutputStream frames = new DataOutputStream(
        new BufferedOutputStream(out, 64 << 10));
    String source = caller.identity().isEmpty() ? "the source" : caller.identity();
    SourceLink link = new SourceLink(source, frames);
    MigrationArea area;
    try {
      area = MigrationArea.of(imageRoot);
      area.dir(r.getMigration()); // checks the id
      if (postCopyLinks.putIfAbsent(r.getMigration(), link) != null) {
        throw AccrException.usage("post-copy: migration %s has a source already",
            r.getMigration());
      }
    } catch (AccrException e) {
      service.error(caller, e.exitCode(), e.getMessage(), e, null).writeDelimitedTo(frames);
      frames.flush();
      return;
    }
    Restorer.SetCheck check = service.paths(caller)::checkImage;
    LinkWatch watch = null;
    try {
      synchronized (frames) {
        Response.newBuilder().setPostCopy(PostCopyReply.newBuilder()
            .setReady(true).setTakesEagerUnits(true).setTakesIndexBeforeSet(true)).build()
            .writeDelimitedTo(frames);
        frames.flush();
      }
      // A source that goes silent (or a client that never sends the index) is let go.
      watch = new LinkWatch("post-copy-target", postCopyTiming, frames, why -> {
        link.breakWith(why);
        closeQuietly(in);
        closeQuietly(out);
      });
      link.run(data, watch, () -> {
        MigrationStepReply restored;
        try {
          restored = area.restorePostCopy(service, plugins, r.getMigration(), r.getRestore(),
              link, check);
        } catch (AccrException e) {
          link.refused(e.exitCode(), e.getMessage());
          return;
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "post-copy restore failed", e);
          link.refused(AccrException.FAILED, e.getClass().getSimpleName() + ": "
              + e.getMessage());
          return;
        }
        try {
          link.restored(restored);
        } catch (IOException e) {
          // The source cannot hear that the process runs here, so it goes on with its own
          // copy: this one must not run too.
          try {
            service.node().kill(restored.getPid(), "lost node " + source
                + " before it heard the process runs here: " + e.getMessage());
          } catch (AccrException gone) {
            // the lost link killed it already
          }
        }
      });
    } finally {
      if (watch != null) {
        watch.close();
      }
      postCopyLinks.remove(r.getMigration(), link);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing a connection that is lost anyway
    }
  }

  /** How often the ends of a post-copy heartbeat, and how long a silent peer is waited for. */
  void postCopyTiming(LinkWatch.Timing timing) {
    this.postCopyTiming = timing;
  }

  LinkWatch.Timing postCopyTiming() {
    return postCopyTiming;
  }
}
