package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ThreadView;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.ChunkFileWriter;
import dev.accr.kernel.AddressSpace;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks of the values inside image entries, which come from untrusted files even when their
 * checksums are right: everything restore would act on is checked here, before anything is
 * created, so that {@code accr check} and {@code accr restore} agree.
 */
final class ImageChecks {
  /** The smallest chunk record: its header and one byte of payload. */
  static final long MIN_CHUNK_RECORD = ChunkFileWriter.CHUNK_HEADER_LENGTH + 1;
  private static final long PAGE = MemoryView.PAGE_SIZE;
  /** Highest descriptor number a restored process may have. */
  private static final int MAX_FD = 1 << 20;
  /** The largest file position a restored descriptor may have (16 TiB, as ext4 files). */
  static final long MAX_FILE_POSITION = 1L << 44;

  private ImageChecks() {}

  static void checkCore(CoreEntry core, Map<Integer, FileEntry> files, String file) {
    for (ThreadCoreEntry t : core.getThreadsList()) {
      if (t.getGprCount() != ThreadView.GPR_COUNT) {
        throw new CorruptImageException(file, "thread " + t.getTid() + " registers: actual="
            + t.getGprCount() + " expected=" + ThreadView.GPR_COUNT);
      }
    }
    Set<Integer> fds = new HashSet<>();
    for (FdEntry fd : core.getFdsList()) {
      if (fd.getFd() < 0 || fd.getFd() >= MAX_FD || !fds.add(fd.getFd())) {
        throw new CorruptImageException(file, "fd " + Integer.toUnsignedString(fd.getFd())
            + " is out of range or listed twice");
      }
      FileEntry f = files.get(fd.getFileId());
      if (f == null) {
        throw new CorruptImageException(file, "fd " + fd.getFd() + " refers to file id "
            + Integer.toUnsignedString(fd.getFileId()) + " that files.img does not have");
      }
      if (f.hasExt()) {
        if (f.hasReg() || f.getExt().getPlugin().isEmpty() || f.getExt().getPath().isEmpty()) {
          throw new CorruptImageException(file, "fd " + fd.getFd() + ": file id " + f.getId()
              + " is a device file without plugin or path");
        }
        continue;
      }
      if (f.hasPipe() || f.hasSocket() || f.hasMemfd()) {
        continue; // checked against pipes.img and shmem.img (SharedImages)
      }
      long pos = f.getReg().getPos();
      String path = f.getReg().getPath();
      if (path.isEmpty() || path.indexOf('\0') >= 0) {
        throw new CorruptImageException(filesImage(file), "file id " + f.getId() + " (fd "
            + fd.getFd() + ") has an empty path or a NUL in it");
      }
      if (pos < 0 || pos > MAX_FILE_POSITION) {
        throw new CorruptImageException(filesImage(file), "file id " + f.getId() + " (fd "
            + fd.getFd() + "): position " + Long.toUnsignedString(pos) + " is beyond "
            + MAX_FILE_POSITION);
      }
    }
  }

  /** files.img beside the core image {@code coreFile}: the same directory, named alike. */
  private static String filesImage(String coreFile) {
    return java.nio.file.Path.of(coreFile).resolveSibling("files.img").toString();
  }

  /** Mappings are page aligned, non-empty, sorted, apart, and fit in an address space. */
  static void checkMm(MmEntry mm, int pid, String file) {
    if (mm.getPid() != pid) {
      throw new CorruptImageException(file, "pid: actual=" + mm.getPid() + " expected=" + pid);
    }
    long previousEnd = 0;
    long total = 0;
    for (VmaEntry v : mm.getVmasList()) {
      long start = v.getStart();
      long length = v.getLength();
      boolean fits = start >= previousEnd && length > 0 && length <= AddressSpace.MAX_MAPPED_BYTES
          && start <= AddressSpace.MAX_ADDRESS - length;
      if (!fits || start % PAGE != 0 || length % PAGE != 0) {
        throw new CorruptImageException(file, String.format(
            "mapping %s+%s is misaligned, empty, overlapping or outside the address space",
            Long.toHexString(start), Long.toHexString(length)));
      }
      total += length;
      if (total > AddressSpace.MAX_MAPPED_BYTES) {
        throw new CorruptImageException(file, "mapped bytes: more than "
            + AddressSpace.MAX_MAPPED_BYTES);
      }
      previousEnd = start + length;
    }
  }

  /** Runs lie inside mappings, in increasing address order, in existing pages files. */
  static void checkChunks(List<PageChunkEntry> chunks, MmEntry mm, TreeSet<Integer> pagesFiles,
      String file) {
    long previousEnd = 0;
    for (PageChunkEntry c : chunks) {
      if (!pagesFiles.contains(c.getPagesFile())) {
        throw new CorruptImageException(file, "chunk refers to pages-"
            + Integer.toUnsignedString(c.getPagesFile()) + ".img that the set does not have");
      }
      long pages = 0;
      for (PageRun r : c.getRunsList()) {
        long nrPages = Integer.toUnsignedLong(r.getNrPages());
        long vaddr = r.getVaddr();
        if (nrPages == 0 || nrPages > ChunkFileReader.MAX_RAW_LENGTH / PAGE
            || vaddr % PAGE != 0 || Long.compareUnsigned(vaddr, previousEnd) < 0
            || !insideVma(mm, vaddr, nrPages * PAGE)) {
          throw new CorruptImageException(file, String.format(
              "page run %s+%d pages is misaligned, out of order or outside every mapping",
              Long.toHexString(vaddr), nrPages));
        }
        previousEnd = vaddr + nrPages * PAGE;
        pages += nrPages;
      }
      if (pages == 0 || pages > ChunkFileReader.MAX_RAW_LENGTH / PAGE) {
        throw new CorruptImageException(file, "chunk pages: actual=" + pages + " expected=1.."
            + ChunkFileReader.MAX_RAW_LENGTH / PAGE);
      }
    }
  }

  /** Runs of pages zero in an incremental set: in increasing order, inside mappings. */
  static void checkZeroRuns(List<PageRun> runs, MmEntry mm, String file) {
    long previousEnd = 0;
    for (PageRun r : runs) {
      long nrPages = Integer.toUnsignedLong(r.getNrPages());
      long vaddr = r.getVaddr();
      if (nrPages == 0 || vaddr % PAGE != 0 || Long.compareUnsigned(vaddr, previousEnd) < 0
          || nrPages > AddressSpace.MAX_MAPPED_BYTES / PAGE
          || !insideVma(mm, vaddr, nrPages * PAGE)) {
        throw new CorruptImageException(file, String.format(
            "zero run %s+%d pages is misaligned, out of order or outside every mapping",
            Long.toHexString(vaddr), nrPages));
      }
      previousEnd = vaddr + nrPages * PAGE;
    }
  }

  private static boolean insideVma(MmEntry mm, long start, long length) {
    for (VmaEntry v : mm.getVmasList()) {
      if (start >= v.getStart() && length <= v.getLength()
          && start - v.getStart() <= v.getLength() - length) {
        return true;
      }
    }
    return false;
  }
}
