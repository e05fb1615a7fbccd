package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.proto.CpuNode;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.Topology;
import dev.accr.proto.VmaSummary;
import org.junit.jupiter.api.Test;

/** Text taken from images cannot break out of the page. */
class SummaryHtmlTest {
  private static final String HOSTILE = "</pre><script>alert(1)</script>\"' onload=\"x";

  @Test
  void textFromImagesIsEscapedEverywhere() {
    SetSummary s = SetSummary.newBuilder().setSourceNode(HOSTILE)
        .setTopology(Topology.newBuilder().setName(HOSTILE)
            .addCpus(CpuNode.newBuilder().setNode(0).setCores(1)))
        .addProcesses(ProcessSummary.newBuilder().setPid(7).setExe(HOSTILE).addArgv(HOSTILE)
            .addVmas(VmaSummary.newBuilder().setStart(4096).setEnd(8192).setPages(1)
                .setName(HOSTILE).setKind("anon").setProt("rw-")))
        .build();
    String page = SummaryHtml.of(s, HOSTILE);
    assertFalse(page.contains("<script>alert"), page);
    assertFalse(page.contains("\"' onload"), page);
    assertTrue(page.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"));
    assertEquals(2, page.split("<script>", -1).length, "only the page's own script");
  }
}
