package dev.accr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import dev.accr.kernel.SharedObjects.Holder;
import dev.accr.kernel.SharedObjects.Kind;
import dev.accr.kernel.SharedObjects.SharedObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each shared object once, with every holder, inside the set of processes or not. */
class SharedObjectsTest {
  private static final long SHARED = 0x2000_0000L;

  @TempDir Path tmp;
  private final Node node = ScriptedWorkload.node(new ScriptedWorkload(
      p -> p.memory().mapShared(SHARED, MemoryView.PAGE_SIZE, Prot.RW, "counters"), p -> false));

  @AfterEach
  void close() {
    node.close();
  }

  private static SharedObject only(List<SharedObject> list, Kind kind) {
    List<SharedObject> of = list.stream().filter(o -> o.kind() == kind).toList();
    assertEquals(1, of.size(), kind + " in " + list);
    return of.get(0);
  }

  @Test
  void aTreeSharesItsPipeAndMemoryAndAnOutsiderMakesThemExternal() {
    SimProcess parent = node.create("scripted", List.of(), tmp, 0);
    int[] fds = parent.files().pipe();
    SimProcess child = node.process(parent.fork());
    Set<Integer> tree = Set.of(parent.pid(), child.pid());

    List<SharedObject> objects = SharedObjects.of(node, tree);
    SharedObject pipe = only(objects, Kind.PIPE);
    assertEquals(Set.of(parent.pid(), child.pid()), pipe.pids());
    SharedObject memory = only(objects, Kind.SHARED_MEMORY);
    assertEquals(List.of(new Holder(parent.pid(), "mapping 20000000"),
        new Holder(child.pid(), "mapping 20000000")), memory.holders());
    assertEquals(2, objects.stream().filter(o -> o.kind() == Kind.PIPE_END).count());
    assertTrue(SharedObjects.external(objects, tree).isEmpty());
    assertEquals(objects.stream().map(SharedObject::id).sorted().toList(),
        objects.stream().map(SharedObject::id).toList(), "in id order");

    SimProcess outsider = node.create("scripted", List.of(), tmp, 0);
    int theirs = outsider.files().getFd(child.pid(), fds[1]);
    List<SharedObject> external = SharedObjects.external(SharedObjects.of(node, tree), tree);
    assertEquals(List.of(Kind.PIPE, Kind.PIPE_END),
        external.stream().map(SharedObject::kind).toList());
    assertEquals(List.of(new Holder(outsider.pid(), "fd " + theirs)),
        external.get(1).outside(tree));
    assertEquals(external.get(1).id(), parent.files().describe(fds[1]).id());
    assertEquals("pipe:[" + external.get(0).id() + "]", external.get(0).describe());
  }
}
