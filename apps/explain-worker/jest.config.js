// The worker runs end to end (as a process, with a real model) in apps/gateway/test/pipeline.e2e.test.ts;
// its building blocks (ModelThread, DynamicBatcher, QueueWorker) are tested in libs/platform.
module.exports = {
  ...require('../../tools/testing/jest-esm-preset'),
  displayName: 'explain-worker',
  rootDir: __dirname,
};
