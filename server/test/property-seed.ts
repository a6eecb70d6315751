/**
 * Property tests run on a fixed fast-check seed so that `npm test` and CI are reproducible: a red run is red on
 * every machine, and its counterexample can be replayed. To explore new cases, set FC_SEED (a number, or `random`):
 *   FC_SEED=random npm test          FC_SEED=78290995 npx vitest run src/modules/graph/demo
 * A failure prints its seed and path; fix the code (or the property), then keep the counterexample as a plain test.
 */
import fc from 'fast-check';

const DEFAULT_SEED = 20_261_128;
const requested = process.env.FC_SEED;
if (requested !== 'random') {
  const seed = requested === undefined || requested === '' ? DEFAULT_SEED : Number(requested);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got "${requested}"`);
  fc.configureGlobal({ seed });
}
