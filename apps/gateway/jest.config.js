module.exports = { ...require('../../tools/testing/jest-esm-preset'), displayName: 'gateway', rootDir: __dirname };
