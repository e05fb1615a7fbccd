package dev.accr.npu.driver;

/** A job did something the device does not allow; the device stops the job and reports it. */
final class NpuFault extends RuntimeException {
  NpuFault(String message) {
    super(message);
  }
}
