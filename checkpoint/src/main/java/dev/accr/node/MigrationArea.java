package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.MappingDryRun;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.RestorePlan;
import dev.accr.engine.StagedChain;
import dev.accr.engine.Restorer;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.plugin.DevicePairs;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.MigrationStepReply;
import dev.accr.proto.MigrationStepRequest;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The target's side of a migration: the sets the source streams here live in a directory of
 * their own under the image root ({@code .migrations/ID}), checked (mapping, memory, plugins)
 * before the source freezes its process, restored as a chain, and dropped once restored or
 * when the source gives up, so that a failed migration leaves nothing here. A pre-copy's
 * rounds are loaded ahead of the stop once the first one passed its check ({@link
 * MigrationStages}), and the restore adopts them.
 */
final class MigrationArea {
  static final String DIR = ".migrations";
  /** The set of a migration's stop, which the target restores. */
  static final String FINAL = "final";
  /** Readers that load a pre-copy round ahead of the stop (the source dumps meanwhile). */
  private static final int STAGE_THREADS = 2;

  private final Path root;

  private MigrationArea(Path root) {
    this.root = root;
  }

  static MigrationArea of(ImageRoot imageRoot) {
    if (imageRoot == null) {
      throw AccrException.usage("this node has no image root: it cannot receive a migration");
    }
    return new MigrationArea(imageRoot.path().resolve(DIR));
  }

  /** The directory of migration {@code id} (32 hex digits). */
  Path dir(String id) {
    if (!id.matches("[0-9a-f]{32}")) {
      throw AccrException.usage("migration id: expected 32 hex digits");
    }
    return root.resolve(id);
  }

  /** Where set {@code name} of migration {@code id} goes; its directory is created. */
  Path prepare(String id, String name) throws IOException {
    Path dir = dir(id);
    Files.createDirectories(dir);
    return set(dir, name);
  }

  private static Path set(Path dir, String name) {
    if (!name.matches("[a-z0-9-]{1,32}")) {
      throw AccrException.usage("migration set name: expected [a-z0-9-]{1,32}");
    }
    return dir.resolve(name);
  }

  /** Carries out one step the source asks for. */
  Response step(NodeService service, PluginHost plugins, MigrationStepRequest r,
      ProgressListener progress, Restorer.SetCheck check, MigrationStages stages)
      throws IOException {
    Path dir = dir(r.getMigration());
    MigrationStepReply.Builder reply = MigrationStepReply.newBuilder();
    switch (r.getActionCase()) {
      case CHECK -> {
        MappingDryRun.Plan plan = MappingDryRun.plan(set(dir, r.getCheck()),
            service.node().topology(), plugins, RestoreOptions.defaults()
                .withMapping(MappingPolicies.fromInfo(r.getMapping())));
        if (r.getMemoryBytes() > 0) {
          MappingDryRun.checkMemory("the process", r.getMemoryBytes(), service.node());
        }
        plan.devices().forEach(d -> reply.addDevices(DevicePairs.toInfo(d)));
        if (r.getCheck().matches("r[0-9]+")) {
          // A pre-copy round the target can take: its memory is loaded while the source
          // prepares the next one, and so is every round after it as it arrives.
          stages.begin(r.getMigration(), set(dir, r.getCheck()), STAGE_THREADS);
        }
      }
      case RESTORE -> {
        StagedChain staged = null;
        try {
          long t0 = System.nanoTime();
          staged = stages.take(r.getMigration()); // the rounds still loading are waited for
          reply.addPhases(dev.accr.proto.PhaseTimeEntry.newBuilder().setPhase("staging")
              .setTimeUs((System.nanoTime() - t0) / 1000));
          restore(service, plugins, dir, r.getRestore(), progress, check, reply, null, staged);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw AccrException.failed("migration: restore interrupted");
        } finally {
          if (staged != null) {
            staged.close();
          }
          discard(dir);
        }
      }
      case AWAIT_STAGED -> {
        try {
          reply.setStagedLinks(stages.awaitStaged(r.getMigration()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw AccrException.failed("migration: interrupted");
        }
      }
      case DISCARD -> {
        stages.drop(r.getMigration());
        discard(dir);
      }
      case ACTION_NOT_SET -> throw AccrException.usage("migration step: no action");
    }
    return Response.newBuilder().setMigrationStep(reply).build();
  }

  /**
   * Restores set "final" of post-copy migration {@code id}, its memory served by the source
   * through {@code link}, then drops the migration's sets.
   */
  MigrationStepReply restorePostCopy(NodeService service, PluginHost plugins, String id,
      RestoreRequest r, SourceLink link, Restorer.SetCheck check) throws IOException {
    Path dir = dir(id);
    MigrationStepReply.Builder reply = MigrationStepReply.newBuilder();
    try {
      restore(service, plugins, dir, r.toBuilder().setDir(FINAL).build(),
          ProgressListener.NONE, check, reply, link);
    } finally {
      discard(dir);
    }
    return reply.build();
  }

  private static void restore(NodeService service, PluginHost plugins, Path dir,
      RestoreRequest r, ProgressListener progress, Restorer.SetCheck check,
      MigrationStepReply.Builder reply, SourceLink link) throws IOException {
    restore(service, plugins, dir, r, progress, check, reply, link, null);
  }

  private static void restore(NodeService service, PluginHost plugins, Path dir,
      RestoreRequest r, ProgressListener progress, Restorer.SetCheck check,
      MigrationStepReply.Builder reply, SourceLink link, StagedChain staged)
      throws IOException {
    RestoreOptions options = RestoreOptions.defaults().withPluginOptions(r.getPluginOptionsMap())
        .withMapping(MappingPolicies.fromInfo(r.getMapping()));
    if (r.getThreads() > 0) {
      options = options.withThreads(r.getThreads());
    }
    if (link != null) {
      options = options.withLazy(RestoreOptions.Lazy.UNCHECKED);
    }
    long t0 = System.nanoTime();
    Restorer restorer = new Restorer(service.node(), plugins).parentsConfinedBy(p -> {
      Path n = p.toAbsolutePath().normalize();
      if (!n.startsWith(dir)) {
        throw AccrException.usage("migration: a parent outside the migration's sets");
      }
      return n;
    });
    if (link != null) {
      restorer = restorer.withRemoteMemory(link);
    }
    if (staged != null) {
      restorer = restorer.withStage(staged);
    }
    // Paths the image names are confined as for any restore asked by this caller.
    long planAt = System.nanoTime();
    RestorePlan plan = restorer.plan(set(dir, r.getDir()), options, progress, check);
    reply.setStagedLinks(plan.stagedLinks());
    Restorer.Result result = restorer.recreate(plan);
    if (link != null) {
      // It runs since the restore's phases ended (they follow one another from the plan on;
      // the last one starts the pusher after the process: a little later than its start).
      long phasesUs = result.stats().getPhasesList().stream()
          .mapToLong(dev.accr.proto.PhaseTimeEntry::getTimeUs).sum();
      link.attach(result.lazy(), planAt + phasesUs * 1000);
      service.restoredLazily(result.process().pid(), result.lazy());
    }
    reply.setPid(result.process().pid()).setRestoreUs((System.nanoTime() - t0) / 1000)
        .addAllPhases(result.stats().getPhasesList());
    result.devices().forEach(d -> reply.addDevices(DevicePairs.toInfo(d)));
  }

  private static void discard(Path dir) {
    try {
      if (Files.exists(dir)) {
        DirectoryTrees.delete(dir);
      }
    } catch (IOException ignored) {
      // Marked leftovers of a dead receiver are removed at the next start of the node.
    }
  }
}
