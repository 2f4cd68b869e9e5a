// The listener runs as a built process against DCMTK and Orthanc in apps/dicom-listener/test.
module.exports = {
  ...require('../../tools/testing/jest-esm-preset'),
  displayName: 'dicom-listener',
  rootDir: __dirname,
};
