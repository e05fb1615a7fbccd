package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.accr.node.RunDirectory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run-directory file in which a node names the TCP address it bound. */
class TcpAddressFileTest {
  @TempDir Path tmp;

  @Test
  void aWrittenAddressReadsBackAsHostColonPort() throws Exception {
    RunDirectory run = new RunDirectory(tmp);
    assertNull(run.readTcpAddress("a"));
    TcpAddressFile.write(run.tcpAddress("a"),
        new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40123));
    assertEquals("127.0.0.1:40123", run.readTcpAddress("a"));
    TcpAddressFile.write(run.tcpAddress("a"),
        new InetSocketAddress(InetAddress.getByName("::1"), 7));
    assertEquals("[0:0:0:0:0:0:0:1]:7", run.readTcpAddress("a"));
  }
}
