module.exports = { ...require('../../jest.preset'), displayName: 'storage', rootDir: __dirname };
