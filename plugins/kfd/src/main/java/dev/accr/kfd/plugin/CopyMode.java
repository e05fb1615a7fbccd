package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;

/** How VRAM is copied: through SDMA engines, by the CPU through the visible window, or both. */
enum CopyMode {
  DMA,
  CPU,
  AUTO;

  static CopyMode parse(String s) {
    return switch (s) {
      case "dma" -> DMA;
      case "cpu" -> CPU;
      case "auto" -> AUTO;
      default -> throw AccrException.usage("kfd: vram-copy '%s' is not one of dma, cpu, auto", s);
    };
  }
}
