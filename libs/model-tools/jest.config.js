module.exports = { ...require('../../jest.preset'), displayName: 'model-tools', rootDir: __dirname };
