/** Workloads that use only host resources: threads, memory and files. */
package dev.accr.workload;
