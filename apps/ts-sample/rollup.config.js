// Rollup as CCF's own TypeScript samples configure it: ES modules, one output file per source
// module (npm dependencies included, under node_modules/), rooted at src/ so that the module
// names in the bundle are the paths relative to dist/src.
import { nodeResolve } from "@rollup/plugin-node-resolve";
import commonjs from "@rollup/plugin-commonjs";
import typescript from "@rollup/plugin-typescript";

export default {
  input: [
    "src/endpoints/notes.ts",
    "src/endpoints/attestation.ts",
    "src/endpoints/service.ts",
  ],
  output: {
    dir: "dist/src",
    format: "es",
    preserveModules: true,
    preserveModulesRoot: "src",
  },
  plugins: [nodeResolve(), typescript(), commonjs()],
};
