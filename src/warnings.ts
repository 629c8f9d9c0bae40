/**
 * Where sqsd's non-fatal warnings go. Library code (the registry, the producer) runs in users' processes and
 * in pool threads, where there is no daemon logger, so it reports through this sink. The default is Node's own
 * `process.emitWarning`; the daemon points it at its logger.
 */
export type WarningSink = (message: string, code: string) => void;

const SINK_KEY = Symbol.for("sqsd.warningSink");
type SinkHolder = { [SINK_KEY]?: WarningSink };

const defaultSink: WarningSink = (message, code) => {
  process.emitWarning(message, { type: "SqsdWarning", code });
};

/** Routes sqsd warnings to `sink` (for example a logger). Returns a function that restores the previous sink. */
export function setWarningSink(sink: WarningSink): () => void {
  const holder = globalThis as SinkHolder;
  const previous = holder[SINK_KEY];
  holder[SINK_KEY] = sink;
  return () => {
    if (previous) holder[SINK_KEY] = previous;
    else delete holder[SINK_KEY];
  };
}

/** Reports a warning through the current sink. */
export function warn(message: string, code: string): void {
  ((globalThis as SinkHolder)[SINK_KEY] ?? defaultSink)(message, code);
}
