/**
 * The accr plugin API: the only package a plugin or workload author compiles against.
 *
 * <p>A {@link dev.accr.api.Workload} is a deterministic program that runs inside a simulated
 * process. It sees the process through {@link dev.accr.api.ProcessView}: registers of its
 * threads, an address space of 4 KiB pages, and a file-descriptor table. Every bit of a
 * workload's state lives there, never in Java fields, so that checkpointing the process
 * checkpoints the program.
 *
 * <p>Errors cross the API as {@link dev.accr.api.AccrException} subclasses, each carrying the
 * command-line exit code it maps to.
 */
package dev.accr.api;
