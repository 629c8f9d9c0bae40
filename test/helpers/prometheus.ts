/** One sample of a Prometheus exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Parses Prometheus text exposition (format 0.0.4) strictly: every sample line must be well formed, and every
 * sample's metric must have been declared with # TYPE. Throws on the first line that is not. NaN in any case, as
 * Prometheus reads it (Go's ParseFloat ignores case): prom-client writes `Nan`, which Node 24's event-loop
 * histogram reports as its mean before its first sample.
 */
export function parsePrometheus(text: string): Sample[] {
  const declared = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      declared.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|[Nn]a[Nn]|\+Inf|-Inf)( \d+)?$/.exec(line);
    if (!sample) throw new Error(`line ${index + 1} is not Prometheus exposition: ${line}`);
    const name = sample[1]!;
    const family = declared.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    if (!declared.has(family)) throw new Error(`line ${index + 1}: ${name} has no # TYPE`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name, labels, value: Number(sample[4]) });
  }
  return samples;
}

/** The value of the sample with this name and (at least) these labels, or undefined. */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}
