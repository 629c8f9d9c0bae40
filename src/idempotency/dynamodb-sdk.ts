/** The lazy import of `@aws-sdk/client-dynamodb`, an optional peer dependency of the DynamoDB store. */
import { optionalPackage } from "../optional-package.js";

/** The SDK module. */
export type DynamoModule = typeof import("@aws-sdk/client-dynamodb");

/** Imports `@aws-sdk/client-dynamodb`, or throws a {@link MissingPackageError} that says how to install it. */
export const importDynamoDb: () => Promise<DynamoModule> = optionalPackage(
  () => import("@aws-sdk/client-dynamodb"),
  "@aws-sdk/client-dynamodb",
  "dynamoDbStore()",
  "use another idempotency store",
);
