module.exports = { ...require('../../jest.preset'), displayName: 'dicom', rootDir: __dirname };
