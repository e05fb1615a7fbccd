package dev.accr.cli;

import dev.accr.engine.JsonOutput;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.PsReply;
import dev.accr.proto.PsRequest;
import dev.accr.proto.Request;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr ps}: the processes of a node, each tree's children under their parent. */
@Command(name = "ps", mixinStandardHelpOptions = true, description = "List the processes of a"
    + " node: each child under its parent (as ps f); --json has ppid, pgid and sid.")
final class PsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PsReply ps = node.call(Request.newBuilder().setPs(PsRequest.getDefaultInstance()).build()).getPs();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(JsonOutput.printWithZeros(ps)); // a root shows its ppid 0
      return 0;
    }
    out.printf("%-7s %-7s %-8s %-8s %8s  %s%n", "PID", "PPID", "STATE", "THREADS", "RSS(KiB)",
        "COMMAND");
    for (Row row : treeOrder(ps.getProcessesList())) {
      ProcessInfo p = row.process();
      out.printf("%-7d %-7d %-8s %-8d %8d  %s%s %s%n", p.getPid(), p.getPpid(), state(p),
          p.getThreads(), p.getResidentPages() * 4, "  ".repeat(row.depth())
              + (row.depth() > 0 ? "\\_ " : ""), p.getExe(), String.join(" ", p.getArgvList()));
    }
    return 0;
  }

  private static String state(ProcessInfo p) {
    if (p.getState().equals("exited") && p.getPpid() != 0) {
      return "zombie";
    }
    return p.getState().equals("running") && p.getBlocked() ? "blocked" : p.getState();
  }

  /** A process and how deep it is in its tree. */
  record Row(ProcessInfo process, int depth) {}

  /**
   * Roots in pid order, each followed by its descendants depth first; a process whose parent
   * is not listed counts as a root.
   */
  static List<Row> treeOrder(List<ProcessInfo> processes) {
    Set<Integer> pids = processes.stream().map(ProcessInfo::getPid).collect(Collectors.toSet());
    Map<Integer, List<ProcessInfo>> children = new TreeMap<>();
    List<ProcessInfo> roots = new ArrayList<>();
    for (ProcessInfo p : processes) {
      if (p.getPpid() != 0 && p.getPpid() != p.getPid() && pids.contains(p.getPpid())) {
        children.computeIfAbsent(p.getPpid(), k -> new ArrayList<>()).add(p);
      } else {
        roots.add(p);
      }
    }
    roots.sort((a, b) -> Integer.compare(a.getPid(), b.getPid()));
    List<Row> rows = new ArrayList<>();
    for (ProcessInfo root : roots) {
      add(rows, root, 0, children);
    }
    return rows;
  }

  private static void add(List<Row> rows, ProcessInfo p, int depth,
      Map<Integer, List<ProcessInfo>> children) {
    rows.add(new Row(p, depth));
    List<ProcessInfo> mine = new ArrayList<>(children.getOrDefault(p.getPid(), List.of()));
    mine.sort((a, b) -> Integer.compare(a.getPid(), b.getPid()));
    children.remove(p.getPid()); // a cycle in a reply cannot loop
    for (ProcessInfo c : mine) {
      add(rows, c, depth + 1, children);
    }
  }
}
