module.exports = { ...require('../testing/jest-esm-preset'), displayName: 'deploy-validation', rootDir: __dirname };
