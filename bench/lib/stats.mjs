// Small statistics helpers shared by the node side and the report.

/** The q-quantile (0..1) of numbers, by linear interpolation. */
export function quantile(values, q) {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** Latency summary of one run: per-operation milliseconds → p50/p99 and ops/s. */
export function latencySummary(latenciesMs, elapsedMs) {
  return {
    opsPerSec: (latenciesMs.length / elapsedMs) * 1000,
    p50Ms: quantile(latenciesMs, 0.5),
    p99Ms: quantile(latenciesMs, 0.99),
  };
}
