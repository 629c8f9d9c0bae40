/**
 * Two example queues for the deploy kit: `shop__emails`, and `shop__thumbnails` with its `big` suffix
 * (`shop__thumbnails__big`). The KEDA ScaledObject has one trigger for each of the three.
 */
import { receiver } from "sqsd";

export const emails = receiver<{ to: string; template: string }>("emails", async (message) => {
  // Send the email here. Never log message.body: it can hold personal data.
  void message;
});

export const thumbnails = receiver<{ imageId: number }>(
  "thumbnails",
  { suffixes: ["big"], visibilityTimeoutSeconds: 120 },
  async (message) => {
    // Render the thumbnail here.
    void message;
  },
);
