import type { Command } from 'commander';
import { initTfjsBackend } from '@xray/ml';
import { exportOnnxPackage } from '@xray/model-tools';
import { progressDisplay } from './progress-display';

export function register(program: Command): void {
  program
    .command('export-onnx')
    .description(
      'Add ONNX graphs (model.onnx and the Grad-CAM++ graphs) to a model package, for the ONNX Runtime engine.',
    )
    .requiredOption('--model <dir>', 'model package folder (model.json + weights + model-card.json)')
    .action(async (options: { model: string }) => {
      // tfjs reads the weights out and runs the check of the exported classifier.
      await initTfjsBackend();
      process.stderr.write(`export-onnx: reading ${options.model}\n`);
      const progress = progressDisplay('export-onnx');
      const written: string[] = [];
      const card = await exportOnnxPackage(options.model, (step) => {
        const check =
          step.maxDifference === undefined
            ? ''
            : `, max difference from the tfjs model ${step.maxDifference.toExponential(1)}`;
        written.push(`${step.file} (${(step.bytes / 1e6).toFixed(1)} MB${check})`);
        progress.update(step.step, step.total, step.file);
      });
      progress.stop();
      for (const line of written) process.stdout.write(`wrote ${line}\n`);
      process.stdout.write(`model-card.json: onnx = ${JSON.stringify(card.onnx)}\n`);
    });
}
