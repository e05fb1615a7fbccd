package dev.accr.cli;

import dev.accr.proto.Request;
import dev.accr.proto.WaitReply;
import dev.accr.proto.WaitRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code accr wait}: waits for a process tree to exit and prints one digest over all its
 * processes.
 */
@Command(name = "wait", mixinStandardHelpOptions = true,
    description = "Wait for a process tree (the root and every descendant) to finish and print"
        + " one digest over all its processes.")
final class WaitCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID", description = "The root of the tree.")
  int pid;

  @Override
  public Integer call() {
    WaitReply reply = node.call(Request.newBuilder().setWait(WaitRequest.newBuilder().setPid(pid))
        .build()).getWait();
    spec.commandLine().getOut().println("digest: " + reply.getDigest());
    return 0;
  }
}
