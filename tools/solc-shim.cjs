#!/usr/bin/env node
// A solc-compatible command line over solcjs (npm `solc`, WebAssembly), so that
// py-solc-x, ape-solidity and forge (foundry.toml) compile offline without downloading a native solc.
//
// Served:
//   --version                       prints "Version: X.Y.Z+commit.HASH..." like native solc
//   --standard-json                 standard-JSON input on stdin, standard-JSON output on stdout
//     [--base-path P] [--include-path P]... [--allow-paths a,b]
//                                   imports not embedded in the input are read from the base
//                                   path, then each include path, then this project's root,
//                                   only inside those roots and the allowed paths
// The project root (the folder above tools/) is always the last root: ape-solidity compiles in
// an isolated temporary copy of the project that has no node_modules, and our remapping
// `@openzeppelin/contracts=node_modules/@openzeppelin/contracts` is relative to the project root.
// Anything else exits 2 with a message naming what is served (never a silent pass).
"use strict";

const fs = require("fs");
const path = require("path");

function fail(message) {
  process.stderr.write(`solc-shim: ${message}\n`);
  process.exit(2);
}

function loadSolc() {
  try {
    return require("solc");
  } catch (err) {
    fail(`cannot load the npm package 'solc' (${err.message}); run 'make setup' in the project root`);
  }
}

function parseArgs(argv) {
  const opts = { mode: null, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const takeValue = () => {
      const eq = arg.indexOf("=");
      if (eq >= 0) return arg.slice(eq + 1);
      i += 1;
      if (i >= argv.length) fail(`option ${arg} needs a value`);
      return argv[i];
    };
    if (arg === "--version" || arg === "-v") opts.mode = "version";
    else if (arg === "--standard-json") opts.mode = "standard-json";
    else if (arg.startsWith("--base-path")) opts.basePath = takeValue();
    else if (arg.startsWith("--include-path")) opts.includePaths.push(takeValue());
    else if (arg.startsWith("--allow-paths")) opts.allowPaths.push(...takeValue().split(",").filter(Boolean));
    else if (arg === "--no-color" || arg === "--pretty-json") continue;
    else fail(`unsupported argument '${arg}': this shim serves --version and --standard-json ` +
      "[--base-path P] [--include-path P] [--allow-paths a,b]");
  }
  return opts;
}

function makeImportResolver(opts) {
  const cwd = process.cwd();
  const projectRoot = path.resolve(__dirname, "..");
  const roots = [opts.basePath || cwd, ...opts.includePaths, projectRoot].map((p) => path.resolve(cwd, p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(cwd, p))];
  const inside = (file) => allowed.some((root) => file === root || file.startsWith(root + path.sep));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.resolve(root, importPath));
    for (const file of candidates) {
      if (!inside(file)) continue;
      try {
        return { contents: fs.readFileSync(file, "utf8") };
      } catch (_err) {
        // try the next root
      }
    }
    return { error: `File not found: '${importPath}' (searched ${roots.join(", ")})` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === "version") {
    const solc = loadSolc();
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (opts.mode !== "standard-json") {
    fail("nothing to do: pass --version or --standard-json (input on stdin)");
  }
  const input = fs.readFileSync(0, "utf8");
  try {
    JSON.parse(input);
  } catch (err) {
    fail(`standard-JSON input on stdin is not valid JSON: ${err.message}`);
  }
  const solc = loadSolc();
  const output = solc.compile(input, { import: makeImportResolver(opts) });
  process.stdout.write(output);
}

main();
