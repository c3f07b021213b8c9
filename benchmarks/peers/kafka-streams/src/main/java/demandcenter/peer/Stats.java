package demandcenter.peer;

import java.util.concurrent.atomic.AtomicLong;

/** Process-wide counters, for the completion line and a harness. */
final class Stats {
  private Stats() {}

  /** System.nanoTime() of the first input record the app saw (0: none yet). */
  static final AtomicLong FIRST_RECORD_NANOS = new AtomicLong();
  static final AtomicLong PROCESSED = new AtomicLong();
  static final AtomicLong APPLIED = new AtomicLong();
  static final AtomicLong DUPLICATES = new AtomicLong();
  static final AtomicLong LATE = new AtomicLong();
  static final AtomicLong IGNORED = new AtomicLong();
  static final AtomicLong TRANSITIONS = new AtomicLong();
  static final AtomicLong ACTIONS = new AtomicLong();
  static final AtomicLong TIMERS_FIRED = new AtomicLong();

  static void sawRecord() {
    if (FIRST_RECORD_NANOS.get() == 0) FIRST_RECORD_NANOS.compareAndSet(0, System.nanoTime());
  }
}
