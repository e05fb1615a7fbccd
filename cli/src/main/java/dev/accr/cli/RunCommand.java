package dev.accr.cli;

import dev.accr.proto.Request;
import dev.accr.proto.RunRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr run}: starts a workload in a new process on a node and prints its pid. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Start a workload on a node and print its pid.",
        "Options after WORKLOAD are the workload's own: 'accr run WORKLOAD --help' lists"
            + " them."})
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = "--step-delay-ms", paramLabel = "MS", defaultValue = "0",
      description = "Pause between steps, to watch a process run (default: ${DEFAULT-VALUE}).")
  int stepDelayMs;

  @Parameters(index = "0", paramLabel = "WORKLOAD", description = "Workload name, e.g. counter.")
  String workload;

  @Parameters(index = "1..*", paramLabel = "ARGS", description = "Options of the workload.")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() {
    if (args.contains("--help") || args.contains("-h")) {
      // From the installed workloads, without a node.
      spec.commandLine().getOut().print(
          WorkloadHelp.of(AccrCommand.registry(spec).workload(workload)));
      return 0;
    }
    int pid = node.call(Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload(workload).addAllArgs(args).setStepDelayMs(stepDelayMs)
        .setCwd(NodePaths.workingDir(node))).build()).getRun().getPid();
    spec.commandLine().getOut().println(pid);
    return 0;
  }
}
