package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.kernel.Node;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.driver.VramFaults;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SharedGpuFaultsTest {
  /** Records the blocks it is asked for. */
  private static final class Recording implements VramFaults {
    final List<Integer> faults = new ArrayList<>();
    final List<Integer> released = new ArrayList<>();

    @Override
    public void fault(int block) {
      faults.add(block);
    }

    @Override
    public void released(int block) {
      released.add(block);
    }
  }

  @Test
  void twoLazyRestoresOnOneGpuBothSeeItsFaultsUntilTheLastIsDone() {
    try (Node node = KfdNodes.node("a", "mi250x4")) {
      Vram vram = KfdNodes.kfd(node).gpus().getFirst().vram();
      Recording first = new Recording();
      Recording second = new Recording();
      SharedGpuFaults.add(vram, first);
      SharedGpuFaults.add(vram, second);
      vram.forRead(0, 8);
      assertEquals(List.of(0), first.faults);
      assertEquals(List.of(0), second.faults, "the second process's handler is not replaced");
      SharedGpuFaults.remove(vram, first);
      vram.forRead(Vram.BLOCK, 8);
      assertEquals(List.of(0), first.faults);
      assertEquals(List.of(0, 1), second.faults);
      SharedGpuFaults.remove(vram, second);
      vram.forRead(2 * Vram.BLOCK, 8);
      assertEquals(List.of(0, 1), second.faults, "the GPU's usual path once both are done");
    }
  }
}
