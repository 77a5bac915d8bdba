// piscina entry point: one chunk of resamples per task.
import { bootstrapChunk, type BootstrapChunk } from './stats';

export default function run(job: BootstrapChunk): { accuracy: Float64Array; macroF1: Float64Array } {
  return bootstrapChunk(job);
}
