// `npm test` runs every project's jest config in one jest process.
const fs = require('node:fs');
const path = require('node:path');

const projects = ['apps', 'libs', 'bench', 'tools']
  .filter((dir) => fs.existsSync(dir))
  .flatMap((dir) => fs.readdirSync(dir).map((name) => path.join(dir, name)))
  .filter((dir) => fs.existsSync(path.join(dir, 'jest.config.js')))
  .map((dir) => `<rootDir>/${dir}`);

module.exports = { projects, testTimeout: 60_000 };
