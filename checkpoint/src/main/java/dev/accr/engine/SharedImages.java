package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.Pipe;
import dev.accr.proto.FileEntry;
import dev.accr.proto.PipeEntry;
import dev.accr.proto.ShmemEntry;
import dev.accr.proto.VmaEntry;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the processes of a set share, as pipes.img and shmem.img describe it, checked against
 * the files and mappings that name it: every pipe has exactly the ends files.img gives it,
 * every shared-memory id named is stored, and each object's pages are held by a mapping of
 * its owner.
 */
public record SharedImages(Map<Integer, PipeEntry> pipes, Map<Integer, ShmemEntry> shmem) {
  /** The most a pipe of a set may buffer: the kernel's largest pipe. */
  static final int MAX_PIPE_CAPACITY = Pipe.MAX_CAPACITY;

  public static final SharedImages NONE = new SharedImages(Map.of(), Map.of());

  /** The entries of pipes.img and shmem.img, by id, each id once. */
  static SharedImages of(List<PipeEntry> pipes, List<ShmemEntry> shmem, Path dir) {
    Map<Integer, PipeEntry> p = new HashMap<>();
    String pipesFile = dir.resolve("pipes.img").toString();
    for (PipeEntry e : pipes) {
      if (p.put(e.getId(), e) != null) {
        throw new CorruptImageException(pipesFile, "pipe " + e.getId() + " is listed twice");
      }
      if (e.getCapacity() == 0 || Integer.compareUnsigned(e.getCapacity(), MAX_PIPE_CAPACITY) > 0
          || e.getData().size() > e.getCapacity()) {
        throw new CorruptImageException(pipesFile, "pipe " + e.getId() + ": buffered="
            + e.getData().size() + " capacity=" + Integer.toUnsignedString(e.getCapacity())
            + " expected buffered<=capacity<=" + MAX_PIPE_CAPACITY);
      }
    }
    Map<Integer, ShmemEntry> s = new HashMap<>();
    String shmemFile = dir.resolve("shmem.img").toString();
    long total = 0;
    for (ShmemEntry e : shmem) {
      if (s.put(e.getId(), e) != null) {
        throw new CorruptImageException(shmemFile, "shared memory " + e.getId()
            + " is listed twice");
      }
      long length = e.getLength();
      if (length <= 0 || length % MemoryView.PAGE_SIZE != 0
          || length > AddressSpace.MAX_MAPPED_BYTES) {
        throw new CorruptImageException(shmemFile, "shared memory " + e.getId() + ": length "
            + Long.toUnsignedString(length) + " is not a whole number of pages up to "
            + AddressSpace.MAX_MAPPED_BYTES);
      }
      total += length; // each bounded above: no overflow before the check below
      if (total > AddressSpace.MAX_MAPPED_BYTES) {
        throw new CorruptImageException(shmemFile, "shared memory: total length exceeds "
            + AddressSpace.MAX_MAPPED_BYTES + " at entry " + e.getId());
      }
    }
    return new SharedImages(Map.copyOf(p), Map.copyOf(s));
  }

  /** Each pipe has exactly the ends it records, and every end names a stored pipe. */
  void checkFiles(Map<Integer, FileEntry> files, Path dir) {
    Map<Integer, int[]> ends = new HashMap<>(); // pipe id -> {readers, writers}
    String filesFile = dir.resolve("files.img").toString();
    for (FileEntry f : files.values()) {
      if (f.hasPipe()) {
        end(ends, f.getPipe().getPipeId(), f, filesFile)[f.getPipe().getReadEnd() ? 0 : 1]++;
      } else if (f.hasSocket()) {
        end(ends, f.getSocket().getInPipeId(), f, filesFile)[0]++;
        end(ends, f.getSocket().getOutPipeId(), f, filesFile)[1]++;
      } else if (f.hasMemfd() && !shmem.containsKey(f.getMemfd().getShmemId())) {
        throw new CorruptImageException(filesFile, "file id " + f.getId() + ": memfd of shared"
            + " memory " + f.getMemfd().getShmemId() + " that shmem.img does not store");
      }
    }
    for (PipeEntry p : pipes.values()) {
      int[] found = ends.getOrDefault(p.getId(), new int[2]);
      if (found[0] != p.getReaders() || found[1] != p.getWriters()) {
        throw new CorruptImageException(dir.resolve("pipes.img").toString(), "pipe "
            + p.getId() + ": ends in files.img: readers=" + found[0] + " writers=" + found[1]
            + " expected readers=" + p.getReaders() + " writers=" + p.getWriters()
            + " (an end is missing)");
      }
    }
  }

  private int[] end(Map<Integer, int[]> ends, int pipe, FileEntry f, String file) {
    if (!pipes.containsKey(pipe)) {
      throw new CorruptImageException(file, "file id " + f.getId() + ": an end of pipe " + pipe
          + " that pipes.img does not store");
    }
    return ends.computeIfAbsent(pipe, k -> new int[2]);
  }

  /** Every shared mapping of process {@code pid} names a stored object of its length. */
  void checkMappings(int pid, List<VmaEntry> vmas, String mmFile) {
    for (VmaEntry v : vmas) {
      if (v.getShmemId() == 0) {
        continue;
      }
      ShmemEntry s = shmem.get(v.getShmemId());
      if (s == null) {
        throw new CorruptImageException(mmFile, "mapping " + Long.toHexString(v.getStart())
            + " of shared memory " + v.getShmemId() + " that shmem.img does not store");
      }
      if (s.getLength() != v.getLength()) {
        throw new CorruptImageException(mmFile, "mapping " + Long.toHexString(v.getStart())
            + " of shared memory " + s.getId() + ": length actual=" + v.getLength()
            + " expected=" + s.getLength());
      }
    }
  }

  /** Each object's owner has a mapping of it at the recorded address. */
  void checkOwners(Map<Integer, ImageSet.ProcessImages> processes,
      Map<Integer, FileEntry> files, Path dir) {
    // An object nobody maps or holds would only cost memory to re-create: refused.
    java.util.Set<Integer> used = new java.util.HashSet<>();
    processes.values().forEach(p -> p.mm().getVmasList().forEach(v -> used.add(v.getShmemId())));
    files.values().stream().filter(FileEntry::hasMemfd)
        .forEach(f -> used.add(f.getMemfd().getShmemId()));
    for (ShmemEntry s : shmem.values()) {
      if (!used.contains(s.getId())) {
        throw new CorruptImageException(dir.resolve("shmem.img").toString(), "shared memory "
            + s.getId() + " is neither mapped nor held by any process of the set");
      }
    }
    for (ShmemEntry s : shmem.values()) {
      if (s.getOwnerPid() == 0) {
        continue;
      }
      ImageSet.ProcessImages owner = processes.get(s.getOwnerPid());
      boolean mapped = owner != null && owner.mm().getVmasList().stream()
          .anyMatch(v -> v.getShmemId() == s.getId() && v.getStart() == s.getOwnerVaddr());
      if (!mapped) {
        throw new CorruptImageException(dir.resolve("shmem.img").toString(), "shared memory "
            + s.getId() + ": its owner " + s.getOwnerPid() + " has no mapping of it at "
            + Long.toHexString(s.getOwnerVaddr()));
      }
    }
  }
}
