package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.util.List;
import org.junit.jupiter.api.Test;

class IncrementalPagesTest {
  private static final long PAGE = 4096;

  private static PageRun run(long page, int pages) {
    return PageRun.newBuilder().setVaddr(page * PAGE).setNrPages(pages).build();
  }

  private static PageChunkEntry chunk(PageRun... runs) {
    return PageChunkEntry.newBuilder().addAllRuns(List.of(runs)).build();
  }

  @Test
  void zeroRunsAreTheReplacedPagesNoChunkStores() {
    List<PageRun> replaced = List.of(run(100, 50), run(10, 5), run(200, 1), run(300, 4));
    List<PageChunkEntry> chunks = List.of(
        chunk(run(10, 2), run(13, 2), run(100, 3)),
        chunk(run(110, 5), run(149, 1), run(200, 1)),
        chunk(run(301, 2)));
    assertEquals(List.of(run(12, 1), run(103, 7), run(115, 34), run(300, 1), run(303, 1)),
        IncrementalPages.unstored(replaced, chunks));
    assertEquals(IncrementalPages.unstored(replaced, chunks), IncrementalPages.unstored(
        replaced, List.of(chunks.get(2), chunks.get(0), chunks.get(1))), "chunks in any order");
    assertEquals(List.of(run(10, 5)), IncrementalPages.unstored(List.of(run(10, 5)), List.of()));
    assertEquals(List.of(), IncrementalPages.unstored(List.of(run(10, 5)),
        List.of(chunk(run(8, 10)))));
  }
}
