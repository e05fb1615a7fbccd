package dev.accr.cli;

import picocli.CommandLine.Command;

/** {@code accr node start|stop|ls}. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Start, stop and list node daemons.",
    subcommands = {NodeStartCommand.class, NodeStopCommand.class, NodeLsCommand.class,
        NodeServeCommand.class})
final class NodeCommand {}
