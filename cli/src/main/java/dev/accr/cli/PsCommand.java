package dev.accr.cli;

import dev.accr.engine.JsonOutput;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.PsReply;
import dev.accr.proto.PsRequest;
import dev.accr.proto.Request;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr ps}: the processes of a node. */
@Command(name = "ps", mixinStandardHelpOptions = true, description = "List the processes of a node.")
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
      out.println(JsonOutput.print(ps));
      return 0;
    }
    out.printf("%-7s %-8s %-8s %8s  %s%n", "PID", "STATE", "THREADS", "RSS(KiB)", "COMMAND");
    for (ProcessInfo p : ps.getProcessesList()) {
      out.printf("%-7d %-8s %-8d %8d  %s %s%n", p.getPid(), p.getState(), p.getThreads(),
          p.getResidentPages() * 4, p.getExe(), String.join(" ", p.getArgvList()));
      if (p.hasLazy()) {
        out.println("        " + LazySummary.line(p.getLazy()));
      }
    }
    return 0;
  }
}
