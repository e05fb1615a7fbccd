package dev.accr.kfd.driver;

/**
 * Loads VRAM blocks that a lazy restore left "not present, in the images", on the first touch
 * by any engine (a shader, an SDMA copy, the CPU through the BAR), as HMM's {@code migrate_vma}
 * brings a page to the device that faults on it. A {@link Vram} asks it only when a touched
 * block has no memory yet, so a device without one pays nothing.
 */
public interface VramFaults {
  /**
   * Called on the first touch of block {@code block}; returns once the block is present if the
   * images hold it (through {@link Vram#installFilled}), or at once if they do not (the block is
   * then zeros, allocated as usual). Throws when the block cannot be loaded.
   */
  void fault(int block);

  /** The block was freed with its buffer: whatever the images held for it is not loaded. */
  void released(int block);
}
