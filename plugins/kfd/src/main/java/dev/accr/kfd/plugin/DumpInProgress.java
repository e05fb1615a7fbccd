package dev.accr.kfd.plugin;

import dev.accr.kfd.driver.DirtyPages;
import dev.accr.kfd.driver.KfdProcess;

/**
 * A dump in progress, attached to its plugin context: the process whose queues it paused (if
 * {@code paused}), the written pages it took from the driver (given back if it fails; null if
 * none) and the label of the tracking period it began (null if none).
 */
record DumpInProgress(KfdProcess kfd, boolean paused, DirtyPages taken, String label) {}
