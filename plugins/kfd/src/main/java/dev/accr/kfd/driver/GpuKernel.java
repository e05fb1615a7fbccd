package dev.accr.kfd.driver;

/**
 * A GPU kernel's code, found through {@link java.util.ServiceLoader} by its id (the number a
 * DISPATCH packet names, like a code object address). Stateless: it reads and writes only
 * memory it reaches through the {@link KernelContext}. Workgroups of one dispatch must be
 * independent, so that a dispatch preempted between workgroups and resumed elsewhere computes
 * the same result.
 */
public interface GpuKernel {
  int id();

  String name();

  /** Runs workgroup {@code workgroup} of a dispatch. */
  void run(KernelContext ctx, int workgroup);
}
