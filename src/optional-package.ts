import { MissingPackageError } from "./errors.js";

/**
 * A loader of an optional peer dependency (an AWS SDK client or `redis`), imported the first time a feature
 * needs it and then kept. `load` is the caller's own `import("…")`, so the module keeps its type. A failed
 * import is not kept, so installing the package while the process runs is seen on the next call; it throws a
 * {@link MissingPackageError} that says what to install and what to do instead.
 */
export function optionalPackage<T>(
  load: () => Promise<T>,
  packageName: string,
  neededFor: string,
  alternative: string,
): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw new MissingPackageError(packageName, neededFor, alternative, error, "dependency");
    }));
}
