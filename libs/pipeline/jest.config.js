module.exports = { ...require('../../jest.preset'), displayName: 'pipeline', rootDir: __dirname };
