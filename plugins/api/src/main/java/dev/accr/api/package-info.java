/**
 * The accr plugin API: the only package a workload, driver or plugin author compiles against.
 *
 * <p>A {@link dev.accr.api.Workload} is a deterministic program that runs inside a simulated
 * process. It sees the process through {@link dev.accr.api.ProcessView}: registers of its
 * threads, an address space of 4 KiB pages, and a file-descriptor table. Every bit of a
 * workload's state lives there or in the devices it opened, never in Java fields, so that
 * checkpointing the process checkpoints the program.
 *
 * <p>A {@link dev.accr.api.DeviceType} adds a kind of device to nodes: its
 * {@link dev.accr.api.DeviceDriver} owns device state and hands processes
 * {@link dev.accr.api.DeviceFile}s. An {@link dev.accr.api.AccrPlugin} checkpoints and restores
 * that state through hooks that run during dump and restore, writing its files through
 * {@link dev.accr.api.PluginImages}.
 *
 * <p>Errors cross the API as {@link dev.accr.api.AccrException} subclasses, each carrying the
 * command-line exit code it maps to.
 */
package dev.accr.api;
