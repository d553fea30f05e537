#!/usr/bin/env node
import { runCli } from './cli.program';

// The tool's only reader of the environment and of argv; everything else gets them passed in.
void runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
}).then((code) => {
  // exitCode, not exit(): stdout is flushed before the process ends, even when piped.
  process.exitCode = code;
});
