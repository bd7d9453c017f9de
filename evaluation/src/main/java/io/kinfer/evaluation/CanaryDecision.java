package io.kinfer.evaluation;

import java.time.Duration;
import java.util.stream.Collectors;

/**
 * The auto-canary's rule: promote only when enough comparisons arrived and every gate passed on
 * them; otherwise roll back, saying which of the two was missing. Pure, so the rule is tested
 * without a broker; {@code ops ctl canary --auto} applies it.
 *
 * @param promote true = promote the candidate, false = restore the plan in force before
 */
public record CanaryDecision(boolean promote, String reason) {
  /**
   * @param candidate "model:version" of the canary
   * @param compared comparisons counted within the watch
   * @param minSamples comparisons needed before anything is proven
   * @param timeout how long the watch lasted at most (for the reason text)
   */
  public static CanaryDecision decide(String candidate, long compared, long minSamples, Duration timeout,
      Gates.Report gates) {
    String verdicts = gates.verdicts().stream().map(Gates.Verdict::toString).collect(Collectors.joining("; "));
    if (compared < minSamples) {
      return new CanaryDecision(false, String.format("rolled back %s: only %d of %d comparisons within %s (is the"
          + " worker serving and the candidate loaded?)", candidate, compared, minSamples, timeout));
    }
    if (!gates.passed()) {
      return new CanaryDecision(false, String.format("rolled back %s after %d comparisons: a gate failed: %s",
          candidate, compared, verdicts));
    }
    return new CanaryDecision(true, String.format("promoted %s after %d comparisons: %s", candidate, compared,
        verdicts));
  }
}
