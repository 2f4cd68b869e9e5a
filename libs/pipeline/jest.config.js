module.exports = { ...require('../../tools/testing/jest-esm-preset'), displayName: 'pipeline', rootDir: __dirname };
