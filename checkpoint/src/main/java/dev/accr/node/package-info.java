/**
 * The node daemon: one JVM per simulated node, serving the RPC API (length-delimited protobuf
 * {@code Request}/{@code Response} messages) on a UNIX-domain socket in the run directory and,
 * optionally, on TCP. The checkpoint engine runs here, so bulk data never crosses the socket.
 */
package dev.accr.node;
