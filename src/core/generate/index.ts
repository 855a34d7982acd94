/** Image → K programs → ranked: the one backend interface, the real backends, the pipeline and the ranking. */
export * from './backend';
export * from './backends';
export * from './generate';
export * from './rank';
