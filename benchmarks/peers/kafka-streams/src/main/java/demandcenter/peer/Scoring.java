package demandcenter.peer;

import java.util.Map;

/**
 * The decayed engagement score, from event time, as the engine computes it
 * (src/condition/condition.cc DecayedValue, src/journey/journey.cc AddToScore): the score is a
 * value as of an instant; it halves every half-life; a signal adds its weight at its own event
 * time, and a late signal (earlier than the score's instant) adds its weight already decayed
 * to that instant.
 */
final class Scoring {
  private Scoring() {}

  static double decayed(double value, long asOfMs, long nowMs) {
    if (value == 0 || nowMs <= asOfMs) return value;
    double elapsed = (double) (nowMs - asOfMs);
    return value * Math.pow(2.0, -elapsed / (double) DefaultConfig.HALF_LIFE_MS);
  }

  static void add(AccountState a, double weight, long atMs) {
    if (weight == 0) return;
    if (atMs >= a.scoreAsOfMs) {
      a.scoreValue = decayed(a.scoreValue, a.scoreAsOfMs, atMs) + weight;
      a.scoreAsOfMs = atMs;
    } else {
      double elapsed = (double) (a.scoreAsOfMs - atMs);
      a.scoreValue = a.scoreValue + weight * Math.pow(2.0, -elapsed / (double) DefaultConfig.HALF_LIFE_MS);
    }
  }

  /** The weight of a signal type: the first matching pattern, else the default. */
  static double weight(String type) {
    for (Map.Entry<String, Double> w : DefaultConfig.WEIGHTS.entrySet()) {
      if (Cond.Glob.match(w.getKey(), type)) return w.getValue();
    }
    return DefaultConfig.DEFAULT_WEIGHT;
  }
}
