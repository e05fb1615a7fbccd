package dev.accr.api;

/** A simulated process as the program it runs sees it. */
public interface ProcessView {
  int pid();

  /** Number of threads; threads are numbered from 0. */
  int threadCount();

  ThreadView thread(int index);

  /** Adds a thread (used while a program sets itself up) and returns it. */
  ThreadView addThread();

  MemoryView memory();

  FileView files();

  /** The directory the process was started from; relative paths resolve against it. */
  String workingDirectory();
}
