module.exports = { ...require('../../jest.preset'), displayName: 'shared', rootDir: __dirname };
