// jest.preset plus a transform of the ESM-only packages (NestJS 12 and its helpers) to
// CommonJS, so that Nest modules can be tested in-process on Node 20 (whose jest cannot
// require() ESM). Used by the projects that import @nestjs/*.
const preset = require('../../jest.preset');

const ESM_PACKAGES = [
  '@nestjs',
  'uid',
  'load-esm',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  'path-to-regexp',
];

module.exports = {
  ...preset,
  transform: {
    ...preset.transform,
    '^.+\\.m?js$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
};
