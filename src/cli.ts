#!/usr/bin/env node
// Placeholder entry point; the yargs command tree arrives with the CLI work.
process.stderr.write('pve-ftp-backup: not implemented yet\n');
process.exitCode = 2;
