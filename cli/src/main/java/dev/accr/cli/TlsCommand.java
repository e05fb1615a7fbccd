package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr tls init}: a CA and certificates for nodes and clients. */
@Command(name = "tls", mixinStandardHelpOptions = true,
    description = "Create TLS material for nodes that listen on TCP.",
    subcommands = {TlsCommand.Init.class})
final class TlsCommand {

  /** {@code accr tls init DIR [--node NAME ...] [--client NAME ...] [--san HOST ...]}. */
  @Command(name = "init", mixinStandardHelpOptions = true,
      description = {"Create a CA (DIR/ca.pem, its key DIR/ca.key) and, for each name, "
          + "DIR/NAME.pem and DIR/NAME.key.",
          "Run it again on the same DIR to add names signed by the same CA. Keys are readable "
              + "by their owner only; DIR is created owner-only (0700).",
          "Node certificates name the node, localhost, 127.0.0.1, ::1 and every --san: a "
              + "client checks that the address it connects to is one of them."},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:created", "1:a file exists or cannot be written, or DIR may be read "
          + "by others", "2:usage error"})
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Directory of the TLS material.")
    Path dir;

    @Option(names = "--node", paramLabel = "NAME",
        description = "A node certificate for node NAME (repeatable).")
    List<String> nodes = new ArrayList<>();

    @Option(names = "--client", paramLabel = "NAME",
        description = "A client certificate for NAME (repeatable; with a new CA, 'client' "
            + "when none is given).")
    List<String> clients = new ArrayList<>();

    @Option(names = "--san", paramLabel = "HOST",
        description = "Another host name or IP address under which the nodes are reached "
            + "(repeatable; added to every node certificate made by this command).")
    List<String> sans = new ArrayList<>();

    @Option(names = "--days", paramLabel = "DAYS", defaultValue = "365", hidden = true,
        description = "Validity of the node and client certificates in days.")
    int days;

    @Override
    public Integer call() {
      TlsDirectory tls = new TlsDirectory(dir);
      boolean newCa = !Files.exists(tls.ca());
      List<String> clientNames = clients.isEmpty() && newCa ? List.of("client") : clients;
      Set<String> all = new LinkedHashSet<>();
      for (String name : concat(nodes, clientNames)) {
        if (!all.add(TlsDirectory.checkName(name))) {
          throw AccrException.usage("name '%s' is given twice", name);
        }
        for (Path p : List.of(tls.certificate(name), tls.key(name))) {
          if (Files.exists(p)) {
            throw AccrException.failed("%s already exists", p); // before anything is written
          }
        }
      }
      for (String san : sans) {
        if (san.isBlank() || san.chars().anyMatch(c -> c <= ' ' || c == ',')) {
          throw AccrException.usage("--san '%s': expected a host name or an IP address", san);
        }
      }
      CertificateAuthority ca = CertificateAuthority.openOrCreate(tls);
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%s %s%n", newCa ? "created CA" : "using CA", tls.ca());
      for (String node : nodes) {
        report(out, "node", tls, node, ca.issueNode(node, sans, days));
      }
      for (String client : clientNames) {
        report(out, "client", tls, client, ca.issueClient(client, days));
      }
      return 0;
    }

    private static void report(PrintWriter out, String kind, TlsDirectory tls, String name,
        X509Certificate cert) {
      out.printf("%s %s: %s %s (valid until %s)%n", kind, name, tls.certificate(name),
          tls.key(name), cert.getNotAfter().toInstant());
    }

    private static List<String> concat(List<String> a, List<String> b) {
      List<String> all = new ArrayList<>(a);
      all.addAll(b);
      return all;
    }
  }
}
