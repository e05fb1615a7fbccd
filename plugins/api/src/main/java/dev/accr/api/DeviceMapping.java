package dev.accr.api;

/**
 * A mapping of a device file into a process's address space, like {@code mmap} of a render
 * node: the range, the device path, and the offset in the device's mapping space.
 */
public record DeviceMapping(long start, long length, int prot, String path, long offset) {}
