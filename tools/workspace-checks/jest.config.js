module.exports = { ...require('../../jest.preset'), displayName: 'workspace-checks', rootDir: __dirname };
