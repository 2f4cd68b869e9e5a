module.exports = { ...require('../../jest.preset'), displayName: 'ml', rootDir: __dirname };
