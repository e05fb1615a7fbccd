package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /** {@code accr tls init DIR [--node NAME[=HOST,...] ...] [--client NAME ...] [--san HOST ...]}. */
  @Command(name = "init", mixinStandardHelpOptions = true,
      description = {"Create a CA (DIR/ca.pem, its key DIR/ca.key) and, for each name, "
          + "DIR/NAME.pem and DIR/NAME.key.",
          "Run it again on the same DIR to add names signed by the same CA. Keys are readable "
              + "by their owner only; DIR is created owner-only (0700).",
          "Node certificates name the node, localhost, 127.0.0.1, ::1, every --san and the "
              + "node's own hosts (--node NAME=HOST,...): a client checks that the address it "
              + "connects to is one of them."},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:created", "1:a file exists or cannot be written, or DIR may be read "
          + "by others", "2:usage error"})
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Directory of the TLS material.")
    Path dir;

    @Option(names = "--node", paramLabel = "NAME[=HOST,...]",
        description = "A node certificate for node NAME, also naming the host names or IP "
            + "addresses after '=' (repeatable).")
    List<String> nodeSpecs = new ArrayList<>();

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
      Map<String, List<String>> nodes = new LinkedHashMap<>();
      for (String spec : nodeSpecs) {
        int eq = spec.indexOf('=');
        String name = eq < 0 ? spec : spec.substring(0, eq);
        List<String> own = eq < 0 ? List.of() : List.of(spec.substring(eq + 1).split(",", -1));
        own.forEach(san -> checkSan("--node " + name + "=", san));
        List<String> names = new ArrayList<>(sans);
        names.addAll(own);
        if (nodes.put(name, names) != null) {
          throw AccrException.usage("name '%s' is given twice", name);
        }
      }
      boolean newCa = !Files.exists(tls.ca());
      List<String> clientNames = clients.isEmpty() && newCa ? List.of("client") : clients;
      Set<String> all = new LinkedHashSet<>();
      for (String name : concat(List.copyOf(nodes.keySet()), clientNames)) {
        if (!all.add(TlsDirectory.checkName(name))) {
          throw AccrException.usage("name '%s' is given twice", name);
        }
        for (Path p : List.of(tls.certificate(name), tls.key(name))) {
          if (Files.exists(p)) {
            throw AccrException.failed("%s already exists", p); // before anything is written
          }
        }
      }
      sans.forEach(san -> checkSan("--san ", san));
      CertificateAuthority ca = CertificateAuthority.openOrCreate(tls);
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%s %s%n", newCa ? "created CA" : "using CA", tls.ca());
      for (var node : nodes.entrySet()) {
        report(out, "node", tls, node.getKey(), ca.issueNode(node.getKey(), node.getValue(),
            days));
      }
      for (String client : clientNames) {
        report(out, "client", tls, client, ca.issueClient(client, days));
      }
      return 0;
    }

    private static void checkSan(String option, String san) {
      if (san.isBlank() || san.chars().anyMatch(c -> c <= ' ' || c == ',')) {
        throw AccrException.usage("%s%s: expected a host name or an IP address", option,
            Untrusted.quote(san));
      }
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
