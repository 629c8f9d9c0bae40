// One linter for the whole repo, type-aware so that floating promises are caught.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bin/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test's describe/it return promises the runner itself tracks.
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "no-empty": ["error", { allowEmptyCatch: false }],
    },
  },
  {
    files: ["eslint.config.js", ".dependency-cruiser.js", "scripts/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain JavaScript for Node on purpose (a peer as its users run it; a hook that must load before tsx).
    files: ["bench/**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { process: "readonly", console: "readonly", performance: "readonly" },
    },
  },
  {
    // The dashboard's page script runs in the browser, as plain JavaScript with uPlot as a global.
    files: ["web/**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: "script",
      parserOptions: { projectService: false },
      globals: Object.fromEntries(
        [
          "document",
          "window",
          "sessionStorage",
          "fetch",
          "EventSource",
          "getComputedStyle",
          "matchMedia",
          "addEventListener",
          "setTimeout",
          "clearTimeout",
          "uPlot",
        ].map((name) => [name, "readonly"]),
      ),
    },
  },
);
