package dev.accr.kfd.workload;

import dev.accr.kfd.driver.GpuKernel;
import dev.accr.kfd.driver.KernelContext;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The kernels of {@code kfd-ddp}. */
public final class DdpKernels {
  private DdpKernels() {}

  /**
   * The mean of the gradients of every worker, summed in rank order whatever path each one
   * takes (local VRAM, a peer's VRAM over XGMI, host memory), so every worker computes the
   * same floats: out = (g_0 + ... + g_{n-1}) / n, where the addresses of g_j are the n longs
   * of the table at args[1] and args[2] is n.
   */
  public static final class AllReduce implements GpuKernel {
    public static final int ID = 301;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "all-reduce-mean";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      MemorySegment table = ctx.readPage(ctx.arg(1));
      int n = (int) ctx.arg(2);
      MemorySegment out = ctx.page(ctx.arg(0) + wg * 4096L);
      float[] sum = new float[WorkloadKernels.FLOATS];
      for (int j = 0; j < n; j++) {
        long at = table.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, j);
        MemorySegment g = ctx.readPage(at + wg * 4096L);
        for (int i = 0; i < sum.length; i++) {
          sum[i] += g.getAtIndex(WorkloadKernels.F, i);
        }
      }
      for (int i = 0; i < sum.length; i++) {
        out.setAtIndex(WorkloadKernels.F, i, sum[i] / n);
      }
    }
  }
}
