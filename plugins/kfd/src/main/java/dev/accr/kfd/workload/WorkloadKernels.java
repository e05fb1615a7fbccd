package dev.accr.kfd.workload;

import dev.accr.kfd.driver.GpuKernel;
import dev.accr.kfd.driver.KernelContext;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The GPU kernels of the kfd workloads. Each workgroup handles one 4 KiB page (1024 floats)
 * of its buffers and touches nothing another workgroup of the same dispatch touches.
 */
public final class WorkloadKernels {
  static final int FLOATS = 1024;
  static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private WorkloadKernels() {}

  /** Fills page {@code wg} of args[0] with noise of seed args[1]. */
  public static final class Fill implements GpuKernel {
    public static final int ID = 100;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "fill";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      MemorySegment out = ctx.page(ctx.arg(0) + wg * 4096L);
      long seed = ctx.arg(1);
      for (int i = 0; i < FLOATS; i++) {
        out.setAtIndex(F, i, GpuProgram.noise(seed, (long) wg * FLOATS + i) * 0.5f);
      }
    }
  }

  /** grad = weights - 0.5 * input; input page is wg modulo args[3] pages of args[2]. */
  public static final class Grad implements GpuKernel {
    public static final int ID = 101;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "grad";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      MemorySegment w = ctx.readPage(ctx.arg(0) + wg * 4096L);
      MemorySegment g = ctx.page(ctx.arg(1) + wg * 4096L);
      MemorySegment x = ctx.readPage(ctx.arg(2) + (wg % ctx.arg(3)) * 4096L);
      for (int i = 0; i < FLOATS; i++) {
        g.setAtIndex(F, i, w.getAtIndex(F, i) - 0.5f * x.getAtIndex(F, i));
      }
    }
  }

  /** Momentum SGD: m = 0.9 m + grad (m in SVM memory); weights -= 0.01 m. */
  public static final class Update implements GpuKernel {
    public static final int ID = 102;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "sgd-momentum";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      MemorySegment w = ctx.page(ctx.arg(0) + wg * 4096L);
      MemorySegment g = ctx.readPage(ctx.arg(1) + wg * 4096L);
      MemorySegment m = ctx.page(ctx.arg(2) + wg * 4096L);
      for (int i = 0; i < FLOATS; i++) {
        float mi = 0.9f * m.getAtIndex(F, i) + g.getAtIndex(F, i);
        m.setAtIndex(F, i, mi);
        w.setAtIndex(F, i, w.getAtIndex(F, i) - 0.01f * mi);
      }
    }
  }

  /**
   * Halo exchange over peer links: workgroup 0 copies the left neighbour's last page
   * (args[0], 0 if none) into halo page 0 (args[2]); workgroup 1 copies the right neighbour's
   * first page (args[1]) into halo page 1.
   */
  public static final class Halo implements GpuKernel {
    public static final int ID = 201;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "halo-exchange";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      long from = ctx.arg(wg);
      MemorySegment halo = ctx.page(ctx.arg(2) + wg * 4096L);
      if (from == 0) {
        halo.fill((byte) 0);
      } else {
        MemorySegment.copy(ctx.readPage(from), 0, halo, 0, 4096);
      }
    }
  }

  /**
   * Three-point stencil: dst[i] = (src[i-1] + src[i] + src[i+1]) / 3 over args[3] pages of
   * src (args[0]) into dst (args[1]); beyond the slab's ends, the halo pages (args[2]).
   */
  public static final class Stencil implements GpuKernel {
    public static final int ID = 202;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "stencil-3pt";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      long src = ctx.arg(0);
      long pages = ctx.arg(3);
      MemorySegment self = ctx.readPage(src + wg * 4096L);
      MemorySegment left = wg == 0 ? ctx.readPage(ctx.arg(2))
          : ctx.readPage(src + (wg - 1) * 4096L);
      MemorySegment right = wg == pages - 1 ? ctx.readPage(ctx.arg(2) + 4096)
          : ctx.readPage(src + (wg + 1) * 4096L);
      MemorySegment dst = ctx.page(ctx.arg(1) + wg * 4096L);
      for (int i = 0; i < FLOATS; i++) {
        float l = i == 0 ? left.getAtIndex(F, FLOATS - 1) : self.getAtIndex(F, i - 1);
        float r = i == FLOATS - 1 ? right.getAtIndex(F, 0) : self.getAtIndex(F, i + 1);
        dst.setAtIndex(F, i, (l + self.getAtIndex(F, i) + r) / 3f);
      }
    }
  }
}
