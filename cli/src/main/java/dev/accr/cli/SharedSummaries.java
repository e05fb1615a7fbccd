package dev.accr.cli;

import dev.accr.engine.ImageSet;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.PipeEntry;
import dev.accr.proto.SharedSummary;
import dev.accr.proto.ShmemEntry;
import dev.accr.proto.VmaEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the processes of a set share, for {@code accr inspect}: each pipe with the processes
 * holding its read and write ends, each shared-memory object with those that map it or hold
 * it as a memfd, and each open file that descriptors of several processes share.
 */
final class SharedSummaries {
  private SharedSummaries() {}

  static List<SharedSummary> of(ImageSet set) {
    Map<Integer, TreeSet<Integer>> readers = new TreeMap<>();
    Map<Integer, TreeSet<Integer>> writers = new TreeMap<>();
    Map<Integer, TreeSet<Integer>> shmHolders = new TreeMap<>();
    Map<Integer, TreeSet<Integer>> fileHolders = new TreeMap<>();
    for (ImageSet.ProcessImages p : new TreeMap<>(set.processes()).values()) {
      int pid = p.core().getPid();
      for (FdEntry fd : p.core().getFdsList()) {
        FileEntry f = set.files().get(fd.getFileId());
        fileHolders.computeIfAbsent(f.getId(), k -> new TreeSet<>()).add(pid);
        if (f.hasPipe()) {
          (f.getPipe().getReadEnd() ? readers : writers)
              .computeIfAbsent(f.getPipe().getPipeId(), k -> new TreeSet<>()).add(pid);
        } else if (f.hasSocket()) {
          readers.computeIfAbsent(f.getSocket().getInPipeId(), k -> new TreeSet<>()).add(pid);
          writers.computeIfAbsent(f.getSocket().getOutPipeId(), k -> new TreeSet<>()).add(pid);
        } else if (f.hasMemfd()) {
          shmHolders.computeIfAbsent(f.getMemfd().getShmemId(), k -> new TreeSet<>()).add(pid);
        }
      }
      for (VmaEntry v : p.mm().getVmasList()) {
        if (v.getShmemId() != 0) {
          shmHolders.computeIfAbsent(v.getShmemId(), k -> new TreeSet<>()).add(pid);
        }
      }
    }
    List<SharedSummary> out = new ArrayList<>();
    for (PipeEntry pipe : new TreeMap<>(set.shared().pipes()).values()) {
      TreeSet<Integer> r = readers.getOrDefault(pipe.getId(), new TreeSet<>());
      TreeSet<Integer> w = writers.getOrDefault(pipe.getId(), new TreeSet<>());
      TreeSet<Integer> all = new TreeSet<>(r);
      all.addAll(w);
      out.add(SharedSummary.newBuilder().setKind("pipe").setId(pipe.getId())
          .setBytes(pipe.getData().size()).addAllPids(all)
          .setDetail("read " + names(r) + ", write " + names(w)).build());
    }
    for (ShmemEntry s : new TreeMap<>(set.shared().shmem()).values()) {
      out.add(SharedSummary.newBuilder().setKind("shmem").setId(s.getId()).setName(s.getName())
          .setBytes(s.getLength())
          .addAllPids(shmHolders.getOrDefault(s.getId(), new TreeSet<>()))
          .setDetail(s.getOwnerPid() == 0 ? "no pages stored"
              : "pages stored by " + s.getOwnerPid()).build());
    }
    for (var e : fileHolders.entrySet()) {
      FileEntry f = set.files().get(e.getKey());
      if (e.getValue().size() < 2 || f.hasPipe() || f.hasSocket() || f.hasMemfd()) {
        continue;
      }
      out.add(SharedSummary.newBuilder().setKind("file").setId(f.getId())
          .setName(f.hasReg() ? f.getReg().getPath() : f.getExt().getPath())
          .addAllPids(e.getValue()).setDetail("one open file description").build());
    }
    return out;
  }

  private static String names(TreeSet<Integer> pids) {
    return pids.isEmpty() ? "closed" : String.join(" ", pids.stream().map(String::valueOf)
        .toList());
  }
}
