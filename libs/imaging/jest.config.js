// Real radiographs take seconds to decode on a loaded machine: allow a minute per test.
module.exports = { ...require('../../jest.preset'), displayName: 'imaging', rootDir: __dirname, testTimeout: 60_000 };
