/**
 * The simulated kernel: nodes, processes with threads, sparse off-heap memory and open files,
 * the freezer, and the workloads that run in processes.
 */
package dev.accr.kernel;
