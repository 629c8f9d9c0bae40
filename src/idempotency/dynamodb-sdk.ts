/** The lazy import of `@aws-sdk/client-dynamodb`, an optional peer dependency of the DynamoDB store. */
import { MissingPackageError } from "../errors.js";

/** The SDK module. */
export type DynamoModule = typeof import("@aws-sdk/client-dynamodb");

let dynamoModule: Promise<DynamoModule> | undefined;

/** Imports `@aws-sdk/client-dynamodb`, or throws a {@link MissingPackageError} that says how to install it. */
export function importDynamoDb(): Promise<DynamoModule> {
  dynamoModule ??= import("@aws-sdk/client-dynamodb").catch((error: unknown) => {
    dynamoModule = undefined;
    throw new MissingPackageError(
      "@aws-sdk/client-dynamodb",
      "dynamoDbStore()",
      "use another idempotency store",
      error,
      "dependency",
    );
  });
  return dynamoModule;
}
