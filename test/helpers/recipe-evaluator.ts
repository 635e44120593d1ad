/* The host's evaluator semantics live in src/model/recipe-evaluate.ts (`preflight host check` uses them too). */
export * from '../../src/model/recipe-evaluate.js';
