#!/usr/bin/env node
// The zonectl command: runs the compiled CLI (npm ci builds it).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
