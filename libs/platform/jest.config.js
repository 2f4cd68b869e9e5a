module.exports = { ...require('../../tools/testing/jest-esm-preset'), displayName: 'platform', rootDir: __dirname };
