#!/usr/bin/env node
// The `xray` command. Runs the compiled CLI; `npm ci` builds it (prepare), `npm run build` refreshes it.
const path = require('node:path');
const fs = require('node:fs');

const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(main)) {
  console.error('xray: the CLI is not built yet. Run `npm run build` in the repository first.');
  process.exit(2);
}
require(main).run();
