package dev.accr.node;

import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.PsReply;
import dev.accr.proto.Response;
import dev.accr.proto.RunReply;
import dev.accr.proto.RunRequest;
import dev.accr.proto.ThawReply;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** The requests of a node that start, list and thaw its processes: run, ps and thaw. */
final class ProcessRequests {
  private final Node node;
  private final LazyInfos lazyInfos;

  ProcessRequests(Node node, LazyInfos lazyInfos) {
    this.node = node;
    this.lazyInfos = lazyInfos;
  }

  Response run(RunRequest r, CallerPaths paths) {
    Path cwd = paths.workingDir(r.getCwd());
    paths.checkArguments(cwd, r.getArgsList());
    SimProcess p = node.spawn(r.getWorkload(), r.getArgsList(), cwd, r.getStepDelayMs());
    return Response.newBuilder().setRun(RunReply.newBuilder().setPid(p.pid())).build();
  }

  /** An argument as a remote caller of a node without an image root sees it. */
  static String hideAnyPath(String arg) {
    return arg.contains("/") ? "(path)" : arg;
  }

  Response ps(UnaryOperator<String> showArgument) {
    PsReply.Builder ps = PsReply.newBuilder();
    lazyInfos.forgetGone();
    for (SimProcess p : node.processes()) {
      ProcessInfo.Builder info = ProcessInfo.newBuilder().setPid(p.pid())
          .setExe(p.workload().name())
          .setState(p.state().name().toLowerCase())
          .addAllArgv(p.argv().stream().map(showArgument).toList())
          .setThreads(p.threadCount()).setPpid(p.ppid()).setPgid(p.pgid()).setSid(p.sid())
          .setBlocked(p.blocked())
          .setResidentPages(p.state() == SimProcess.State.EXITED ? 0 : p.memory().residentPages());
      var lazy = lazyInfos.of(p.pid());
      if (lazy != null) {
        info.setLazy(lazy);
      }
      ps.addProcesses(info);
    }
    return Response.newBuilder().setPs(ps).build();
  }

  /** {@code accr thaw}: a process a dump left stopped runs on. */
  Response thaw(int pid) {
    node.resumeTree(pid);
    return Response.newBuilder().setThaw(ThawReply.getDefaultInstance()).build();
  }
}
