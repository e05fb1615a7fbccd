package dev.accr.engine;

import dev.accr.image.CheckpointId;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.RestoreStatsEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * What a restore leaves in the set it restored, as CRIU does: {@code stats-restore.img}. The
 * file is not in the set's inventory (the set stays as dumped, and checks and checksums do not
 * see it); it replaces the one of an earlier restore in one rename, so that a reader sees the
 * old file or the new one, never half of one.
 */
public final class RestoreRecords {
  private RestoreRecords() {}

  /** Writes {@code stats} as the {@code stats-restore.img} of the set {@code id} in {@code dir}. */
  public static Path writeStats(Path dir, CheckpointId id, RestoreStatsEntry stats)
      throws IOException {
    String name = ImageKind.STATS_RESTORE.fileName();
    byte[] bytes = EntryImageCodec.encode(ImageKind.STATS_RESTORE, ImageKind.VERSION_CURRENT,
        id, name, List.of(stats));
    Path temp = Files.createTempFile(dir, "." + name + ".", ".tmp");
    try {
      Files.write(temp, bytes);
      return Files.move(temp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
