package dev.accr.kfd.plugin;

import dev.accr.kfd.driver.DirtyPages;
import dev.accr.kfd.driver.KfdProcess;
import java.util.List;

/**
 * A dump in progress, attached to its plugin context: the process whose queues it paused (if
 * {@code paused}), the written pages it took from the driver (given back if it fails; null if
 * none), the label of the tracking period it began (null if none), the VRAM a pre-dump
 * chose to copy once the process runs (null if none), and whether it turned tracking on (a
 * failed dump turns it off again).
 */
record DumpInProgress(KfdProcess kfd, boolean paused, DirtyPages taken, String label,
    List<VramPieces> toCopy, boolean beganTracking) {

  DumpInProgress(KfdProcess kfd, boolean paused) {
    this(kfd, paused, null, null, null, false);
  }
}
