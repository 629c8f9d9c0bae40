/**
 * The app's `telemetry.setup` module, where it registers its OpenTelemetry SDK: imported by the supervisor
 * right after its config is loaded, and by each pool thread before its receiver modules.
 */
import { TelemetrySetupError } from "../errors.js";
import { importUserModule } from "../loader.js";

/** Imports the `telemetry.setup` module; whatever it throws, or a missing file, is a {@link TelemetrySetupError}. */
export async function importTelemetrySetup(file: string): Promise<void> {
  try {
    await importUserModule(file);
  } catch (error) {
    throw new TelemetrySetupError(file, error);
  }
}
